// Test setup shared by the detect and wizard system tests: the operator's side (a HOME with a key
// and the target's host key on record) and a target that preflight accepts.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KeyPair } from "../../helpers/ssh-keys";
import type { TestTarget } from "../../targets/index";

/** A HOME with the operator's key as ~/.ssh/id_ed25519 and the target's host key in known_hosts. */
export async function operatorHome(t: TestTarget, key: KeyPair): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), "nnt-home-"));
  mkdirSync(join(home, ".ssh"), { mode: 0o700 });
  writeFileSync(join(home, ".ssh", "id_ed25519"), readFileSync(key.privatePath), { mode: 0o600 });
  writeFileSync(join(home, ".ssh", "id_ed25519.pub"), key.publicKey + "\n");
  const hostPub = execFileSync("ssh-keygen", ["-y", "-f", t.hostKeyPath], { encoding: "utf8" }).trim();
  writeFileSync(join(home, ".ssh", "known_hosts"), `${t.address} ${hostPub}\n`);
  return home;
}

/** Makes the container-hosted target pass preflight as a KVM VPS would: cpio present (start it with virt: "kvm" too). */
export async function looksLikeKvmVps(t: TestTarget): Promise<void> {
  await t.writeFile("/usr/local/sbin/cpio", "#!/bin/sh\nexit 0\n", 0o755);
}
