// A non-root login through Debian's REAL sudo (not a stand-in): with NOPASSWD every command and the
// probe run as root through `sudo -n`; a sudo that wants a password is refused with the fix, before
// anything runs. The target's /etc is its own, so its sudoers rules never touch this machine's.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationError } from "../../../src/errors";
import { detectFacts } from "../../../src/detect/detect";
import { connectSsh, type ConnectOptions } from "../../../src/remote/ssh-target";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";

const supported = targetsSupported();
const hasSudo = existsSync("/usr/bin/sudo");
const skip = !supported.ok || !hasSudo;
const why = !supported.ok
  ? ` (skipped: ${supported.reason})`
  : hasSudo
    ? ""
    : " (skipped: sudo is not installed; scripts/test.sh installs it as root)";

describe.skipIf(skip)(`a non-root login through the real sudo${why}`, () => {
  let dir: string;
  let key: KeyPair;
  let t: TestTarget;
  let base: (user: string) => ConnectOptions;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nnt-sudo-"));
    key = await makeKeyPair(dir);
    t = await startTarget();
    const pinned = await t.hostKeyFingerprint();
    base = (user) => ({
      host: t.address,
      port: t.port,
      user,
      pinnedHostKey: pinned,
      identityFiles: [key.privatePath],
      connectTimeoutMs: 5000,
    });
    // sudo looks up the machine's own name; a VPS maps it in /etc/hosts (cloud-init does), and a
    // target has no DNS to ask, so each lookup would otherwise wait for a resolver timeout
    expect((await t.exec(`echo "127.0.1.1 $(hostname)" >> /etc/hosts`)).code).toBe(0);
    for (const [user, rule] of [
      ["deploy", "deploy ALL=(ALL) NOPASSWD:ALL"],
      ["asker", "asker ALL=(ALL) ALL"],
    ] as const) {
      // -p '*': no password, but not a locked account (sshd refuses those even for keys), as cloud images do
      const r = await t.exec(
        `useradd -m -s /bin/sh -p '*' ${user} && mkdir -p /home/${user}/.ssh && echo '${key.publicKey}' > /home/${user}/.ssh/authorized_keys && ` +
          `chown -R ${user}: /home/${user}/.ssh && chmod 700 /home/${user}/.ssh && echo '${rule}' > /etc/sudoers.d/${user} && chmod 440 /etc/sudoers.d/${user}`,
      );
      expect(r.code, r.stderr).toBe(0);
    }
    expect(existsSync("/etc/sudoers.d/deploy")).toBe(false); // the target's own /etc
  });

  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("NOPASSWD: every command runs as root through sudo -n, and the probe reports root access via sudo", async () => {
    const s = await connectSsh(base("deploy"));
    try {
      expect(s.viaSudo).toBe(true);
      expect((await s.run("id -u")).stdout.trim()).toBe("0");
      expect((await s.run("id -un; echo $SUDO_USER")).stdout.split("\n").slice(0, 2)).toEqual(["root", "deploy"]);
      const facts = await detectFacts(s);
      expect(facts.access.sudo).toBe("passwordless");
      expect(facts.hostname).toBe(t.name);
    } finally {
      await s.close();
    }
    expect(await t.sshdLog()).toMatch(/Accepted publickey for deploy /);
  });

  it("a sudo that wants a password: refused with the fix, nothing run", async () => {
    const e = await connectSsh(base("asker")).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OperationError);
    expect((e as OperationError).message).toMatch(/asker is not root and cannot use sudo without a password/);
    expect((e as OperationError).hint).toMatch(/NOPASSWD/);
  });
});
