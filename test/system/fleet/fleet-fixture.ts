// N throwaway targets planned as ONE fleet flake, the way an operator does it: `detect --save` of
// each machine, a fleet.json naming them, `fleet plan`. The nixos-anywhere stand-in is on PATH
// (as in the install tests) and one kexec mirror serves every target.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { runInProcess } from "../install/run-in-process";
import { STANDIN_BIN, STANDIN_NIX_BIN } from "../install/install-fixture";
import { startKexecMirror, type KexecMirror } from "../../targets/standins/kexec-personality";
import { startTarget, type TestTarget } from "../../targets/index";
import type { CliResult } from "../../helpers/cli";

export const NEW_PORT = 2222;

export interface FleetFixture {
  names: string[];
  targets: Record<string, TestTarget>;
  key: KeyPair;
  work: string;
  flakeDir: string;
  knownHosts: string;
  env: Record<string, string>;
  /** `fleet install` in this process with the operator's flags, plus `extra`. */
  install(extra?: string[]): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export async function fleetFixture(count: number): Promise<FleetFixture> {
  const work = mkdtempSync(join(tmpdir(), "nn-fleet-"));
  const home = join(work, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  mkdirSync(join(work, "logs"), { mode: 0o700 });
  mkdirSync(join(work, "facts"));
  const key = await makeKeyPair(join(home, ".ssh"));
  const knownHosts = join(home, ".ssh", "known_hosts");
  const names = Array.from({ length: count }, (_, i) => (i === 0 ? "collector1" : `node${i}`));
  const targets: Record<string, TestTarget> = {};
  let mirror: KexecMirror | null = null;
  const cleanup = async () => {
    await mirror?.close();
    await Promise.all(Object.values(targets).map((t) => t.stop().catch(() => undefined)));
    rmSync(work, { recursive: true, force: true });
  };
  try {
    for (const n of names) {
      // a VM with 4 GiB: the preflight rightly refuses a container
      targets[n] = await startTarget({ virt: "kvm", memoryMiB: 4096, authorizedKeys: [key.publicKey] });
      if (!existsSync("/usr/bin/cpio"))
        await targets[n].writeFile("/usr/local/sbin/cpio", "#!/bin/sh\necho 'cpio (test stand-in)'\n", 0o755);
    }
    const tarball = join(work, "kexec-installer.tar.gz");
    writeFileSync(tarball, "stand-in kexec tarball (nixos-anywhere's stand-in does not unpack it)\n");
    mirror = await startKexecMirror(tarball);
    const env: Record<string, string> = {
      ...mirror.env,
      HOME: home,
      SSH_AUTH_SOCK: "",
      PATH: `${STANDIN_BIN}:${STANDIN_NIX_BIN}:${process.env.PATH}`,
      NIXNODE_STANDIN_NIX_LOG: join(work, "operator-nix.log"),
      NIXNODE_STANDIN_TARGETS: Object.values(targets)
        .map((t) => t.dir)
        .join(":"),
    };
    const hosts: Record<string, unknown> = {};
    for (const n of names) {
      const t = targets[n]!;
      const facts = join(work, "facts", `${n}.json`);
      const r = await runInProcess(
        [
          "detect",
          `root@${t.address}`,
          "--save",
          facts,
          "--json",
          "-i",
          key.privatePath,
          "--host-key",
          await t.hostKeyFingerprint(),
          "--known-hosts",
          knownHosts,
          "--log-dir",
          join(work, "logs"),
        ],
        { cwd: work, env },
      );
      if (r.code !== 0) throw new Error(`detect ${n}: ${r.stdout}${r.stderr}`);
      hosts[n] = { address: t.address, role: n === "collector1" ? "collector" : "node", facts: `facts/${n}.json` };
    }
    writeFileSync(
      join(work, "fleet.json"),
      JSON.stringify({ defaults: { ssh: { authorizedKeys: [key.publicKey], port: NEW_PORT } }, hosts }, null, 2),
    );
    const flakeDir = join(work, "fleet");
    const plan = await runInProcess(
      ["fleet", "plan", "--inventory", join(work, "fleet.json"), "--out", flakeDir, "--json"],
      { cwd: work, env },
    );
    if (plan.code !== 0) throw new Error(`fleet plan: ${plan.stdout}${plan.stderr}`);
    return {
      names,
      targets,
      key,
      work,
      flakeDir,
      knownHosts,
      env,
      install: (extra = []) =>
        runInProcess(
          [
            "fleet",
            "install",
            "--flake",
            flakeDir,
            "--yes",
            "--json",
            "-i",
            key.privatePath,
            "--known-hosts",
            knownHosts,
            // first contact with each fresh machine: its key is trusted and recorded (a changed one is refused)
            "--accept-new-host-key",
            "--log-dir",
            join(work, "logs"),
            ...extra,
          ],
          { cwd: work, env },
        ),
      cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** `ssh` as the operator runs it afterwards: strict checking against our known_hosts only, key only. */
export function strictSsh(f: FleetFixture, t: TestTarget, port: number, command: string): string[] {
  return [
    "-p",
    String(port),
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${f.knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "PasswordAuthentication=no",
    "-i",
    f.key.privatePath,
    "-o",
    "ConnectTimeout=10",
    `root@${t.address}`,
    command,
  ];
}
