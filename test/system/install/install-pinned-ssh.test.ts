// nixos-anywhere's own SSH connections are pinned: the stand-in connects as 1.13 does (the real
// OpenSSH `ssh` and `ssh-copy-id` found on PATH, `-o UserKnownHostsFile=/dev/null -o
// StrictHostKeyChecking=no` first), and the tool hands it a PATH whose first `ssh` checks the keys
// this run verified. A target whose key changes after the tool's check is refused before anything,
// least of all the new private host key, is sent.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets/index";
import { installFixture, type InstallFixture } from "./install-fixture";

const supported = targetsSupported();
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

async function waitForFile(path: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!supported.ok)(
  `nixos-anywhere's connections are pinned (real OpenSSH client) ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it("a host key that changes after the tool's check stops the install before any file is sent", async () => {
      f = await installFixture();
      const pause = join(f.work, "pause");
      const standinLog = join(f.work, "standin.log");
      const bootBefore = await f.target.bootId();
      const running = f.install([], {
        env: {
          NIXNODE_STANDIN_PAUSE_AT: "connect",
          NIXNODE_STANDIN_PAUSE_FILE: pause,
          NIXNODE_STANDIN_LOG: standinLog,
        },
      });
      // the tool has verified the key and started nixos-anywhere: now someone else answers
      await waitForFile(`${pause}.reached`, 60_000);
      const r0 = await f.target.exec(
        `rm -f '${f.target.hostKeyPath}' '${f.target.hostKeyPath}.pub' && ssh-keygen -q -t ed25519 -N '' -C impostor -f '${f.target.hostKeyPath}'`,
      );
      expect(r0.code, r0.stderr).toBe(0);
      await f.target.restartSshd();
      const impostor = await f.target.hostKeyFingerprint();
      expect(impostor).not.toBe(f.originalFingerprint);
      writeFileSync(pause, "");
      const r = await running;

      expect(r.code, r.stdout + r.stderr).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string; data?: { details: string[] } };
      expect(err.message).toMatch(/host key of .* changed/);
      const details = err.data?.details.join("\n") ?? "";
      expect(details).toContain(f.originalFingerprint);
      expect(details).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
      expect(details).toMatch(/Nothing was changed on the target/);
      // the extra files (the new PRIVATE host key) never arrived; nothing was partitioned or rebooted
      expect(existsSync(join(f.target.dir, "standin-mnt", "etc", "ssh", "ssh_host_ed25519_key"))).toBe(false);
      expect(existsSync(join(f.target.dir, "standin-disko.done"))).toBe(false);
      const onTarget = await f.target.exec("ls /mnt/etc/ssh 2>/dev/null; cat /etc/os-release");
      expect(onTarget.stdout).not.toMatch(/ssh_host_ed25519_key/);
      expect(onTarget.stdout).not.toMatch(/VARIANT_ID=installer/);
      expect(await f.target.bootId()).toBe(bootBefore);
      // the real ssh saw nixos-anywhere's argv with strict checking in front
      expect(readFileSync(standinLog, "utf8")).toMatch(
        /^ssh -G: stricthostkeychecking true, userknownhostsfile \S+\/known_hosts$/m,
      );
      // no login of nixos-anywhere's got through to the impostor
      expect(readFileSync(standinLog, "utf8")).not.toMatch(/^login ok$/m);
    });

    it("the normal install goes through the pinned ssh: strict checking, and it completes", async () => {
      f = await installFixture();
      const standinLog = join(f.work, "standin.log");
      const r = await f.install([], { env: { NIXNODE_STANDIN_LOG: standinLog } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const pinned = (r.events.find((e) => e.type === "result") as { data: { hostKeyFingerprint: string } }).data
        .hostKeyFingerprint;
      expect(await f.target.hostKeyFingerprint()).toBe(pinned);
      const log = readFileSync(standinLog, "utf8");
      expect(log).toMatch(/^ssh -G: stricthostkeychecking true, userknownhostsfile \S+\/known_hosts$/m);
      // key upload, facts before and after kexec, extra files: all over the real ssh, all accepted
      expect(log.match(/^login ok$/gm)?.length ?? 0).toBeGreaterThanOrEqual(4);
      // the wrapper's folder (the verified keys) did not outlive the run
      const dir = /userknownhostsfile (\S+)\/known_hosts/.exec(log)![1]!;
      expect(existsSync(dir)).toBe(false);
    });
  },
);
