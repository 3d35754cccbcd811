// The install on ONE host of a fleet flake stages THAT host's pre-generated key (secrets/<host>/,
// keys/<host>/): the private key decrypts with the operator's key, its public half is the one the
// plan pinned in hosts/<host>/host.json, and the flake's files are unchanged. A single-node flake
// keeps secrets/host-key.age.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prepareHostKey } from "../../../src/install/flake-host";
import { readHostFile } from "../../../src/flake/host-file";
import { readIdentityFile } from "../../../src/secrets/age";
import { HOST_KEY_AGE, hostKeyFiles } from "../../../src/secrets/host-key";
import { inventory, makeOperator, planInto, scratch } from "./fleet-fixture";

function snapshot(dir: string, rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, rel))) {
    const p = join(rel, e);
    if (statSync(join(dir, p)).isDirectory()) Object.assign(out, snapshot(dir, p));
    else out[p] = readFileSync(join(dir, p)).toString("base64");
  }
  return out;
}

describe("fleet: the install's host key for one host of the fleet", () => {
  const s = scratch();
  afterAll(() => s.remove());

  it("stages node1's own key: the fingerprint pinned by the plan, ssh-keygen derives the same public key, no file changes", async () => {
    const op = makeOperator(s.dir);
    const dir = join(s.dir, "fleet");
    await planInto(dir, inventory(op, ["collector1", "node1"]));
    const before = snapshot(dir);
    for (const name of ["node1", "collector1"]) {
      const { host } = readHostFile(dir, { hostname: name });
      const { staged } = await prepareHostKey(dir, name, host, () => readIdentityFile(op.key, "-i"));
      try {
        expect(staged.reused).toBe(true);
        expect(staged.key.fingerprint).toBe(host.ssh.hostKeyFingerprint);
        // the real ssh-keygen reads the staged private key and gets keys/<host>/'s public key
        const priv = join(staged.extraFilesDir, "etc", "ssh", "ssh_host_ed25519_key");
        const derived = execFileSync("ssh-keygen", ["-y", "-f", priv]).toString().trim().split(" ").slice(0, 2);
        const pub = readFileSync(join(dir, "keys", name, "ssh_host_ed25519_key.pub"), "utf8")
          .trim()
          .split(" ");
        expect(derived).toEqual(pub.slice(0, 2));
      } finally {
        staged.temp.cleanup();
      }
    }
    // host.json already pinned this key: nothing in the flake changed, no single-node key appeared
    expect(snapshot(dir)).toEqual(before);
    expect(Object.keys(before).some((p) => p === HOST_KEY_AGE)).toBe(false);
  });

  it("a single-node flake keeps secrets/host-key.age; another host's folder never redirects it", () => {
    const single = join(s.dir, "single");
    execFileSync("mkdir", ["-p", join(single, "hosts", "node1")]);
    writeFileSync(join(single, "flake.nix"), "{}\n");
    expect(hostKeyFiles(single, "node1")).toMatchObject({
      age: "secrets/host-key.age",
      pub: "keys/ssh_host_ed25519_key.pub",
    });
    expect(hostKeyFiles(join(s.dir, "fleet"), "node1")).toMatchObject({
      age: "secrets/node1/host-key.age",
      pub: "keys/node1/ssh_host_ed25519_key.pub",
    });
    expect(hostKeyFiles(join(s.dir, "fleet"))).toMatchObject({ age: "secrets/host-key.age" });
  });
});
