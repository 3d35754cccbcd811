// The nixos-anywhere engine (here the 1.13 stand-in, connecting with the real ssh) against a real sshd target: the happy path and
// what happens when the machine does not come back, or comes back with another host key.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets/index";
import { installFixture, strictSshArgs, type InstallFixture } from "./install-fixture";

const run = promisify(execFile);
const supported = targetsSupported();
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

describe.skipIf(!supported.ok)(
  `install with nixos-anywhere ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it("installs, then only the pinned host key is accepted and only host.json's keys get in", async () => {
      f = await installFixture();
      const bootBefore = await f.target.bootId();
      const r = await f.install();
      expect(r.stderr).toBe("");
      expect(r.code, r.stdout).toBe(0);
      const result = r.events.find((e) => e.type === "result") as { data: { hostKeyFingerprint: string } };
      const pinned = result.data.hostKeyFingerprint;
      // the target now uses the key generated on the operator's side, and rebooted
      expect(await f.target.hostKeyFingerprint()).toBe(pinned);
      expect(pinned).not.toBe(f.originalFingerprint);
      expect(await f.target.bootId()).not.toBe(bootBefore);
      const host = JSON.parse(readFileSync(join(f.flakeDir, "hosts", "node1", "host.json"), "utf8"));
      expect(host.ssh.hostKeyFingerprint).toBe(pinned);
      // a real OpenSSH login with strict checking against the known_hosts the tool wrote
      const login = await run("ssh", strictSshArgs(f, "cat /etc/os-release; hostname; cat /root/.ssh/authorized_keys"));
      expect(login.stdout).toMatch(/^ID=nixos$/m);
      // the planned release (the plan's default moves with the release table)
      expect(host.stateVersion).toMatch(/^\d\d\.\d\d$/);
      expect(login.stdout).toContain(`\nVERSION_ID="${host.stateVersion}"\n`);
      expect(login.stdout).toMatch(/^node1$/m);
      const authorised = login.stdout.split("\n").filter((l) => l.startsWith("ssh-"));
      expect(authorised).toEqual(host.ssh.authorizedKeys);
      // phases in order, as step events, and state.json says verified
      const done = r.events
        .filter((e) => e.type === "step" && e.status === "done")
        .map((e) => e.phase as string)
        .filter((p) => ["kexec", "disko", "install", "reboot", "verify"].includes(p));
      expect(done).toEqual(["kexec", "disko", "install", "reboot", "verify"]);
      const state = JSON.parse(readFileSync(join(f.flakeDir, ".nixnode", "state.json"), "utf8"));
      expect(state.install).toMatchObject({
        verified: true,
        pinnedHostKey: pinned,
        phasesDone: ["kexec", "disko", "install", "reboot"],
      });
      // the staged private key did not outlive the run
      const log = readFileSync(
        join(f.work, "logs", (await import("node:fs")).readdirSync(join(f.work, "logs"))[0]!),
        "utf8",
      );
      expect(log).not.toMatch(/BEGIN OPENSSH PRIVATE KEY/);
    });

    it("refuses a different host key after the reboot, showing both fingerprints", async () => {
      f = await installFixture();
      const r = await f.install([], { env: { NIXNODE_STANDIN_FAULT: "wrong-host-key" } });
      expect(r.code).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string; data?: { details: string[] } };
      expect(err.message).toMatch(/not the pinned one/);
      const details = err.data?.details.join("\n") ?? "";
      const state = JSON.parse(readFileSync(join(f.flakeDir, ".nixnode", "state.json"), "utf8"));
      expect(details).toContain(state.install.pinnedHostKey);
      expect(details).toContain(await f.target.hostKeyFingerprint());
      // nothing was written to known_hosts for the impostor
      expect(existsSync(f.knownHosts) ? readFileSync(f.knownHosts, "utf8") : "").not.toContain("ssh-ed25519");
    });

    it("a failure before kexec prints diagnostics gathered through the fallback session", async () => {
      f = await installFixture();
      const bootBefore = await f.target.bootId();
      const r = await f.install([], { env: { NIXNODE_STANDIN_FAULT: "kexec-fails" } });
      expect(r.code).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string; data: { details: string[] } };
      expect(err.message).toMatch(/nixos-anywhere failed \(exit 1\) during kexec/);
      const details = err.data.details.join("\n");
      expect(details).toMatch(/Kexec failed/);
      expect(details).toMatch(/Diagnostics from the fallback session/);
      expect(details).toMatch(/--- free -m\n(.|\n)*Mem:/);
      expect(details).toMatch(/--- lsblk/);
      expect(details).toMatch(/disks are untouched/);
      expect(await f.target.bootId()).toBe(bootBefore);
    });

    it("gives up after --reboot-timeout when the machine never answers, saying what to do", async () => {
      f = await installFixture();
      const r = await f.install(["--reboot-timeout", "6"], { env: { NIXNODE_STANDIN_FAULT: "never-returns" } });
      expect(r.code).toBe(3);
      const err = r.events.find((e) => e.type === "error") as {
        message: string;
        hint: string;
        data?: { details: string[] };
      };
      expect(err.message).toMatch(/did not answer with the pinned host key within 6 s/);
      expect(err.data?.details.join("\n")).toMatch(/console/);
      expect(err.hint).toMatch(/re-run/);
    });
  },
);

describe.skipIf(!supported.ok)(
  `install, then lockdown, then a re-run ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it("a re-run of a finished install only verifies, then hands over to lockdown", async () => {
      f = await installFixture();
      const r = await f.install();
      expect(r.code, r.stdout).toBe(0);
      const again = await f.install([], { lockdown: true });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const infos = again.events
        .filter((e) => e.type === "info")
        .map((e) => e.message as string)
        .join("\n");
      expect(infos).toMatch(/already runs the installed system with the pinned host key/);
      expect(again.events.filter((e) => e.type === "step" && e.status === "done" && e.phase === "kexec")).toEqual([]);
      // after lockdown: 22 is closed, the key gets in on the new port (pinned key, strict checking)
      const host = JSON.parse(readFileSync(join(f.flakeDir, "hosts", "node1", "host.json"), "utf8"));
      const port = String(host.lockdown.port);
      const args = strictSshArgs(f, "hostname");
      const login = await run("ssh", ["-p", port, ...args]);
      expect(login.stdout.trim()).toBe("node1");
      await expect(run("ssh", ["-p", "22", ...args])).rejects.toThrow();
      // an install, a lockdown and a re-run: ~90 s alone, more on a shared machine
    }, 300_000);
  },
);
