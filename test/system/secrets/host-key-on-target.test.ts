// The pre-generated host key on a real sshd: what the operator decrypts from the flake and stages
// as --extra-files is a key OpenSSH serves (ssh-keyscan sees the pinned fingerprint), and with that
// same key the machine decrypts its secrets as agenix does at boot (age -d -i the host key).
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";
import { readIdentityFile } from "../../../src/secrets/age";
import { createSecretTempDir, decryptHostKeyInto } from "../../../src/secrets/host-key";
import { ensureProfileSecrets } from "../../../src/secrets/store";
import { HAVE_AGE, HAVE_SSH_KEYGEN, scratch, sshKeygen } from "../../unit/secrets/tools";

const supported = targetsSupported();
const run = promisify(execFile);

describe.skipIf(!supported.ok || !HAVE_AGE || !HAVE_SSH_KEYGEN)(
  `host key on a real sshd ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    const s = scratch();
    const flake = s.path("node");
    let t: TestTarget;
    let fingerprint = "";

    beforeAll(async () => {
      sshKeygen(s.path("op"), "ed25519", { comment: "alice@laptop" });
      mkdirSync(flake, { recursive: true });
      writeFileSync(
        join(flake, "nixnode.json"),
        JSON.stringify({ hostname: "obs1", ssh: { authorizedKeys: [readFileSync(s.path("op.pub"), "utf8").trim()] } }),
      );
      // the wizard's step: the profile's secrets, which first makes the host key
      const made = await ensureProfileSecrets(flake, "peer-observer");
      fingerprint = made.hostKeyCreated!;
      t = await startTarget({ hostname: "obs1" });
    });
    afterAll(async () => {
      await t?.stop();
      s.remove();
    });

    it("sshd serves the staged key: ssh-keyscan shows the fingerprint pinned in the flake", async () => {
      const tmp = createSecretTempDir();
      try {
        const d = await decryptHostKeyInto(flake, readIdentityFile(s.path("op"), "-i"), tmp.path);
        expect(d.fingerprint).toBe(fingerprint);
        // what nixos-anywhere --extra-files does with etc/ssh/ssh_host_ed25519_key
        await t.writeFile("/etc/ssh/ssh_host_ed25519_key", readFileSync(d.privateKeyPath, "utf8"), 0o600);
        await t.writeFile("/etc/ssh/ssh_host_ed25519_key.pub", readFileSync(d.publicKeyPath, "utf8"), 0o644);
      } finally {
        tmp.cleanup();
      }
      await t.restartSshd();
      expect(await t.hostKeyFingerprint()).toBe(fingerprint);
      const scan = await run("ssh-keyscan", ["-t", "ed25519", "-p", String(t.port), t.address]);
      writeFileSync(s.path("scanned"), scan.stdout);
      const lf = await run("ssh-keygen", ["-lf", s.path("scanned")]);
      expect(lf.stdout).toContain(fingerprint);
    });

    it("the machine decrypts its WireGuard secret with that host key, as agenix does at boot", async () => {
      await t.writeFile(
        "/root/wireguard.age",
        readFileSync(join(flake, "secrets/wireguard-private-key-obs1.age"), "utf8"),
        0o600,
      );
      const r = await t.exec("age -d -i /etc/ssh/ssh_host_ed25519_key /root/wireguard.age");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
      const op = await run("age", ["-d", "-i", s.path("op"), join(flake, "secrets/wireguard-private-key-obs1.age")]);
      expect(r.stdout).toBe(op.stdout);
    });
  },
);
