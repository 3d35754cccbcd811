// The SSH layer (src/remote) against real sshd targets: every way in, every host-key decision,
// and every way a connection fails, each with the error kind an operator would see.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelledError, OperationError, UserError } from "../../../src/errors";
import { addKnownHost, fingerprintSha256, parseKnownHosts } from "../../../src/remote/known-hosts";
import { connectSsh, listAuthMethods, type ConnectOptions } from "../../../src/remote/ssh-target";
import { memoryLog } from "../../../src/ui/log";
import { makeKeyPair, startAgent, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";

const supported = targetsSupported();

function acceptedLogins(log: string): number {
  return log.split("\n").filter((l) => /Accepted \S+ for /.test(l)).length;
}

describe.skipIf(!supported.ok)(
  `SSH layer against real targets${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let dir: string;
    let key: KeyPair;
    let t: TestTarget;
    let pinned: string;
    const base = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
      host: t.address,
      port: t.port,
      pinnedHostKey: pinned,
      connectTimeoutMs: 3000,
      ...extra,
    });

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "nnt-ssh-"));
      key = await makeKeyPair(dir);
      t = await startTarget({ authorizedKeys: [key.publicKey] });
      pinned = await t.hostKeyFingerprint();
    });
    afterAll(async () => {
      await t?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("logs in with a key file and multiplexes every command over ONE login", async () => {
      const before = acceptedLogins(await t.sshdLog());
      const s = await connectSsh(base({ identityFiles: [key.privatePath] }));
      expect(s.authMethod).toBe("publickey");
      expect(s.hostKeyFingerprint).toBe(pinned);
      expect(s.remoteAddress).toBe(t.address);
      const results = await Promise.all([s.run("hostname"), s.run("cat", { stdin: "piped" }), s.run("exit 7")]);
      expect(results[0]!.stdout.trim()).toBe(t.name);
      expect(results[1]!.stdout).toBe("piped");
      expect(results[2]!.code).toBe(7);
      await s.close();
      expect(acceptedLogins(await t.sshdLog()) - before).toBe(1);
    });

    it("logs in with an RSA key (rsa-sha2 signatures)", async () => {
      const rsa = await makeKeyPair(dir, { type: "rsa" });
      await t.exec("cat >> /root/.ssh/authorized_keys", { input: rsa.publicKey + "\n" });
      const s = await connectSsh(base({ identityFiles: [rsa.privatePath] }));
      expect(s.authMethod).toBe("publickey");
      await s.close();
      expect(await t.sshdLog()).toContain(`Accepted publickey for root from ${t.operatorAddress}`);
      expect(await t.sshdLog()).toMatch(new RegExp(`RSA ${rsa.fingerprint.replace(/[+/]/g, "\\$&")}`));
    });

    it("uploads atomically with the requested mode", async () => {
      const s = await connectSsh(base({ identityFiles: [key.privatePath] }));
      await s.upload("/root/deep/dir/secret.txt", "s3cret\n", 0o600);
      await s.close();
      const r = await t.exec(
        "stat -c %a /root/deep/dir/secret.txt; cat /root/deep/dir/secret.txt; ls -a /root/deep/dir",
      );
      expect(r.stdout).toBe("600\ns3cret\n.\n..\nsecret.txt\n");
    });

    it("logs in through the agent holding a passphrase-protected key", async () => {
      const locked = await makeKeyPair(dir, { passphrase: "agent pass" });
      await t.exec("cat >> /root/.ssh/authorized_keys", { input: locked.publicKey + "\n" });
      const agent = await startAgent([locked]);
      try {
        const s = await connectSsh(base({ agentSocket: agent.sock }));
        expect(s.authMethod).toBe("agent");
        expect((await s.run("whoami")).stdout.trim()).toBe("root");
        await s.close();
      } finally {
        await agent.stop();
      }
    });

    it("asks for an encrypted key's passphrase through the callback", async () => {
      const locked = await makeKeyPair(dir, { passphrase: "file pass" });
      await t.exec("cat >> /root/.ssh/authorized_keys", { input: locked.publicKey + "\n" });
      const asked: string[] = [];
      const s = await connectSsh(
        base({ identityFiles: [locked.privatePath], askPassphrase: async (f) => (asked.push(f), "file pass") }),
      );
      expect(asked).toEqual([locked.privatePath]);
      expect(s.authMethod).toBe("publickey");
      await s.close();
    });

    it("logs in with the root password, which never reaches the log", async () => {
      const log = memoryLog();
      const s = await connectSsh(base({ password: t.rootPassword, log }));
      expect(s.authMethod).toBe("password");
      await s.close();
      expect(log.lines.join("\n")).not.toContain(t.rootPassword);
    });

    it("a mistyped password is asked again, up to three times", async () => {
      const typed = ["typo-1", t.rootPassword];
      let asked = 0;
      const s = await connectSsh(base({ askPassword: async () => typed[asked++] }));
      expect(asked).toBe(2);
      await s.close();
      let again = 0;
      const e = await connectSsh(base({ askPassword: async () => (again++, "always-wrong") })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OperationError);
      expect(again).toBe(3);
    });

    it("a wrong password is an OperationError saying the password was not accepted", async () => {
      const e = await connectSsh(base({ password: "not-the-password" })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OperationError);
      expect((e as Error).message).toMatch(/password was not accepted/);
    });

    it("an unknown host key: confirmed -> connects and is remembered; refused -> CancelledError; non-interactive -> refused", async () => {
      const kh = join(dir, "known_hosts_unknown");
      const questions: string[] = [];
      const s = await connectSsh({
        host: t.address,
        port: t.port,
        knownHostsFiles: [kh],
        password: t.rootPassword,
        confirmHostKey: async (q) => (questions.push(q.fingerprint), true),
      });
      await s.close();
      expect(questions).toEqual([pinned]);
      expect(parseKnownHosts(readFileSync(kh, "utf8")).map((e) => fingerprintSha256(e.blob))).toEqual([pinned]);

      const kh2 = join(dir, "known_hosts_refuse");
      const refused = await connectSsh({
        host: t.address,
        port: t.port,
        knownHostsFiles: [kh2],
        password: t.rootPassword,
        confirmHostKey: async () => false,
      }).catch((x: unknown) => x);
      expect(refused).toBeInstanceOf(CancelledError);

      const silent = await connectSsh({
        host: t.address,
        port: t.port,
        knownHostsFiles: [kh2],
        password: t.rootPassword,
      }).catch((x: unknown) => x);
      expect(silent).toBeInstanceOf(OperationError);
      expect((silent as OperationError).message).toContain(pinned);
      expect((silent as OperationError).hint).toMatch(/--host-key .*--accept-new-host-key/);

      const accepted = await connectSsh({
        host: t.address,
        port: t.port,
        knownHostsFiles: [kh2],
        password: t.rootPassword,
        acceptNewHostKey: true,
      });
      await accepted.close();
      expect(readFileSync(kh2, "utf8")).toContain("ssh-ed25519");
    });

    it("a re-key during the session does not ask about the host key again", async () => {
      await t.exec("echo 'RekeyLimit 16K' >> /etc/ssh/sshd_config");
      await t.restartSshd();
      try {
        let asked = 0;
        const s = await connectSsh({
          host: t.address,
          port: t.port,
          password: t.rootPassword,
          confirmHostKey: async () => (asked++, true),
        });
        const r = await s.run("head -c 300000 /dev/zero | tr '\\0' x | wc -c");
        expect(r.stdout.trim()).toBe("300000");
        const big = await s.run("cat | wc -c", { stdin: "y".repeat(300_000) });
        expect(big.stdout.trim()).toBe("300000");
        await s.close();
        expect(asked).toBe(1);
      } finally {
        await t.exec("sed -i '/RekeyLimit/d' /etc/ssh/sshd_config");
        await t.restartSshd();
      }
    });

    it("a host key found in a HASHED known_hosts entry connects without asking", async () => {
      const kh = join(dir, "known_hosts_hashed");
      const s0 = await connectSsh(base({ password: t.rootPassword }));
      addKnownHost(kh, t.address, t.port, s0.hostKey, { hash: true });
      await s0.close();
      expect(readFileSync(kh, "utf8")).toMatch(/^\|1\|/);
      const s = await connectSsh({ host: t.address, port: t.port, knownHostsFiles: [kh], password: t.rootPassword });
      await s.close();
    });

    it("a CHANGED host key aborts with both fingerprints, and the server saw no login attempt", async () => {
      const other = await startTarget();
      try {
        const kh = join(dir, "known_hosts_changed");
        // known_hosts remembers OUR target's key under the other target's address
        const s0 = await connectSsh(base({ password: t.rootPassword }));
        addKnownHost(kh, other.address, other.port, s0.hostKey);
        await s0.close();
        const logBefore = await other.sshdLog();
        const e = await connectSsh({
          host: other.address,
          port: other.port,
          knownHostsFiles: [kh],
          password: other.rootPassword,
          acceptNewHostKey: true,
          confirmHostKey: async () => true,
        }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(OperationError);
        expect((e as OperationError).message).toMatch(/HOST KEY HAS CHANGED/);
        const details = (e as OperationError).details.join("\n");
        expect(details).toContain(pinned);
        expect(details).toContain(await other.hostKeyFingerprint());
        const logAfter = (await other.sshdLog()).slice(logBefore.length);
        expect(logAfter).not.toMatch(/Accepted|Failed|password|publickey/);
        // a pinned key that does not match is refused the same way
        const p = await connectSsh({
          host: other.address,
          port: other.port,
          pinnedHostKey: pinned,
          password: other.rootPassword,
        }).catch((x: unknown) => x);
        expect((p as Error).message).toMatch(/HOST KEY HAS CHANGED/);
      } finally {
        await other.stop();
      }
    });

    it("root login disabled: the message says so", async () => {
      const noRoot = await startTarget({ authorizedKeys: [key.publicKey], permitRootLogin: "no" });
      try {
        const e = await connectSsh({
          host: noRoot.address,
          port: noRoot.port,
          pinnedHostKey: await noRoot.hostKeyFingerprint(),
          identityFiles: [key.privatePath],
        }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(OperationError);
        expect((e as Error).message).toMatch(/root login is disabled/);
      } finally {
        await noRoot.stop();
      }
    });

    it("no acceptable key on a key-only server: says the server allows only public keys", async () => {
      const stranger = await makeKeyPair(dir);
      const keyOnly = await startTarget({ passwordAuthentication: false });
      try {
        const e = await connectSsh({
          host: keyOnly.address,
          port: keyOnly.port,
          pinnedHostKey: await keyOnly.hostKeyFingerprint(),
          identityFiles: [stranger.privatePath],
        }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(OperationError);
        expect((e as Error).message).toMatch(/only public-key login/);
      } finally {
        await keyOnly.stop();
      }
    });

    it("listAuthMethods reports password before it is disabled and not after, spending no failed attempt", async () => {
      expect(await listAuthMethods(base())).toEqual(expect.arrayContaining(["publickey", "password"]));
      const conf = join(t.dir, "sshd_config");
      const original = readFileSync(conf, "utf8");
      writeFileSync(conf, original.replace("PasswordAuthentication yes", "PasswordAuthentication no"));
      try {
        await t.restartSshd();
        const methods = await listAuthMethods(base());
        expect(methods).toContain("publickey");
        expect(methods).not.toContain("password");
      } finally {
        writeFileSync(conf, original);
        await t.restartSshd();
      }
      expect(await t.sshdLog()).not.toMatch(/Failed none/);
    });

    it("a password-only-through-PAM server (keyboard-interactive) takes the password; a key-only server is never asked one", async () => {
      const pam = await startTarget({ usePam: true });
      try {
        const conf = join(pam.dir, "sshd_config");
        writeFileSync(
          conf,
          readFileSync(conf, "utf8")
            .replace("PasswordAuthentication yes", "PasswordAuthentication no")
            .replace("KbdInteractiveAuthentication no", "KbdInteractiveAuthentication yes"),
        );
        await pam.restartSshd();
        const fp = await pam.hostKeyFingerprint();
        expect(await listAuthMethods({ host: pam.address, port: pam.port, pinnedHostKey: fp })).toEqual([
          "publickey",
          "keyboard-interactive",
        ]);
        const s = await connectSsh({
          host: pam.address,
          port: pam.port,
          pinnedHostKey: fp,
          askPassword: async () => pam.rootPassword,
        });
        expect(s.authMethod).toBe("keyboard-interactive");
        await s.close();
      } finally {
        await pam.stop();
      }
      const keyOnly = await startTarget({ passwordAuthentication: false, authorizedKeys: [key.publicKey] });
      try {
        let asked = 0;
        const e = await connectSsh({
          host: keyOnly.address,
          port: keyOnly.port,
          pinnedHostKey: await keyOnly.hostKeyFingerprint(),
          askPassword: async () => (asked++, "x"),
        }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(OperationError);
        expect(asked).toBe(0);
      } finally {
        await keyOnly.stop();
      }
    });

    it("Ctrl-C while connecting to a silent port: CancelledError, promptly", async () => {
      await t.faults.blockPort(t.port);
      try {
        const ac = new AbortController();
        const pending = connectSsh(base({ password: "x", connectTimeoutMs: 60_000, signal: ac.signal })).catch(
          (x: unknown) => x,
        );
        setTimeout(() => ac.abort(), 300);
        expect(await pending).toBeInstanceOf(CancelledError);
      } finally {
        await t.faults.unblockPort(t.port);
      }
    });

    it("closed port: connection refused, named as such", async () => {
      const e = await connectSsh(base({ port: 2299, password: "x" })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OperationError);
      expect((e as Error).message).toMatch(/connection refused on port 2299/);
    });

    it("blackholed port: gives up after the connect timeout with a clear message", async () => {
      await t.faults.blockPort(t.port);
      try {
        const e = await connectSsh(base({ password: "x", connectTimeoutMs: 1500 })).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(OperationError);
        expect((e as Error).message).toMatch(/no answer within 2 s \(connecting\)/);
      } finally {
        await t.faults.unblockPort(t.port);
      }
    });

    it("link down: the address is unreachable and connecting fails with an OperationError", async () => {
      await t.faults.linkDown();
      try {
        const e = await connectSsh(base({ password: "x", connectTimeoutMs: 1500 })).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(OperationError);
        expect((e as Error).message).toMatch(/no route|no answer within/);
      } finally {
        await t.faults.linkUp();
      }
    });

    it("a non-root login: no sudo or a sudo that wants a password is refused with the fix; passwordless sudo wraps every command", async () => {
      const add = await t.exec(
        "useradd -m -s /bin/sh operator1 && echo 'operator1:op-pass-1' | chpasswd && ls -d /home/operator1",
      );
      expect(add.code).toBe(0);
      expect(existsSync("/home/operator1")).toBe(false); // /etc and /home are the target's own
      // This server lets operator1 set PATH through ~/.ssh/environment. First a PATH with no sudo on
      // it (the real sudo may be installed on this machine, in /usr/bin): "sudo is not installed".
      await t.exec(
        `echo 'PermitUserEnvironment yes' >> /etc/ssh/sshd_config && mkdir -p /home/operator1/.ssh && echo PATH=/usr/local/sbin > /home/operator1/.ssh/environment && chown -R operator1 /home/operator1/.ssh`,
      );
      await t.restartSshd();
      const e = await connectSsh(base({ user: "operator1", password: "op-pass-1" })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OperationError);
      expect((e as OperationError).message).toMatch(/operator1 is not root and sudo is not installed/);
      expect((e as OperationError).hint).toMatch(/NOPASSWD/);
      // then sudo stand-ins in /usr/local/sbin, ahead of any real sudo on the usual PATH
      // (test/system/ssh/real-sudo.test.ts covers Debian's real sudo)
      await t.exec(`echo PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/bin > /home/operator1/.ssh/environment`);
      // a sudo that refuses to run without a password
      await t.exec(
        `printf '#!/bin/sh\\necho "sudo: a password is required" >&2\\nexit 1\\n' > /usr/local/sbin/sudo && chmod 755 /usr/local/sbin/sudo`,
      );
      try {
        const e2 = await connectSsh(base({ user: "operator1", password: "op-pass-1" })).catch((x: unknown) => x);
        expect((e2 as OperationError).message).toMatch(/operator1 is not root and cannot use sudo without a password/);
        expect((e2 as OperationError).details.join()).toMatch(/a password is required/);
        // a passwordless sudo (stand-in that records its arguments and runs them): every command goes through `sudo -n sh -c`
        await t.exec(
          `printf '#!/bin/sh\\necho "$*" >> /home/operator1/sudo-calls\\n[ "$1" = -n ] && shift\\nexec "$@"\\n' > /usr/local/sbin/sudo`,
        );
        const s = await connectSsh(base({ user: "operator1", password: "op-pass-1" }));
        expect(s.viaSudo).toBe(true);
        expect((await s.run(`echo "it's" | tr a-z A-Z`)).stdout).toBe("IT'S\n");
        await s.close();
        expect((await t.exec("cat /home/operator1/sudo-calls")).stdout).toBe(
          `-n true\n-n sh -c echo "it's" | tr a-z A-Z\n`,
        );
      } finally {
        await t.exec(
          "rm -f /usr/local/sbin/sudo /home/operator1/sudo-calls && sed -i '/PermitUserEnvironment/d' /etc/ssh/sshd_config",
        );
        await t.restartSshd();
      }
    });

    it("an unreadable key file is a UserError naming --identity", async () => {
      const e = await connectSsh(base({ identityFiles: [join(dir, "missing-key")] })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).field).toBe("--identity");
    });

    it("keepalives carry a connection through a 5 s link-down", async () => {
      const s = await connectSsh(
        base({ identityFiles: [key.privatePath], keepaliveIntervalMs: 2000, keepaliveCountMax: 10 }),
      );
      await t.faults.linkDown();
      await new Promise((r) => setTimeout(r, 5000));
      await t.faults.linkUp();
      expect((await s.run("echo survived")).stdout.trim()).toBe("survived");
      expect(s.connected).toBe(true);
      await s.close();
    });

    it("a command cut by a reboot resolves with no exit code and the target reports disconnected", async () => {
      const s = await connectSsh(base({ identityFiles: [key.privatePath] }));
      const pending = s.run("sleep 30");
      await new Promise((r) => setTimeout(r, 300));
      await t.simulateReboot();
      const r = await pending;
      expect(r.code).toBeNull();
      await new Promise((res) => setTimeout(res, 200));
      expect(s.connected).toBe(false);
    });
  },
);
