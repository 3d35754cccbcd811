// LOCKDOWN.md failures on the target or in the operator's credentials: sshd rejects the new config,
// another unit fails, a switch is already running, the offered key is not authorised. After each
// one the operator logs in again (a real login) and the message says what happened.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { makeKeyPair } from "../../helpers/ssh-keys";
import { targetsSupported } from "../../targets";
import { failUnitsInNextBuild, nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, lockdown, startLab, type Lab } from "./fixture";
import { tryLogin } from "./login";

const supported = targetsSupported();

async function expectUntouched(lab: Lab, hostJsonBefore: string) {
  const s = await nixosState(lab.t);
  expect(s.profileLink).toBe("system-1-link");
  expect(s.current).toBe(s.boot);
  expect(await tryLogin({ host: lab.t.address, port: 22, password: lab.t.rootPassword })).toMatchObject({ ok: true });
  expect(
    await tryLogin({ host: lab.t.address, port: NEW_PORT, password: lab.t.rootPassword, timeoutMs: 3000 }),
  ).toMatchObject({ ok: false });
  expect(readFileSync(lab.hostJsonPath, "utf8")).toBe(hostJsonBefore);
}

describe.skipIf(!supported.ok)(
  `lockdown target failures${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let lab: Lab | undefined;
    afterEach(async () => {
      await lab?.stop();
      lab = undefined;
    });

    it("sshd refuses the new configuration: the switch fails, the old sshd comes back", async () => {
      lab = await startLab();
      const before = readFileSync(lab.hostJsonPath, "utf8");
      await failUnitsInNextBuild(lab.t, ["sshd"]);
      const run = await lockdown(lab);
      expect(run.error?.exitCode).toBe(3);
      expect(run.error?.message).toMatch(
        /switch-to-configuration test failed on the target \(exit 4\): warning: the following units failed: sshd\.service/,
      );
      expect(run.error?.message).toMatch(/previous configuration \(generation 1\) is active again; port 22 works/);
      expect(await lab.t.sshdLog()).toMatch(/Bad configuration option|NixnodeTestBrokenSetting/);
      await expectUntouched(lab, before);
    });

    it("another unit fails on activation (switch exits 4): rolled back, the unit named", async () => {
      lab = await startLab();
      const before = readFileSync(lab.hostJsonPath, "utf8");
      await failUnitsInNextBuild(lab.t, ["bitcoind"]);
      const run = await lockdown(lab);
      expect(run.error?.exitCode, `${run.error?.message}\n${run.error?.details?.join("\n")}`).toBe(3);
      expect(run.error?.details?.join("\n") ?? "").not.toMatch(/while evaluating/);
      expect(run.error?.message).toMatch(
        /exit 4\): warning: the following units failed: bitcoind\.service.*active again/,
      );
      await expectUntouched(lab, before);
    });

    it("a switch is already running: refuses before changing anything; a stale lock file alone does not block", async () => {
      lab = await startLab();
      const before = readFileSync(lab.hostJsonPath, "utf8");
      await lab.t.exec(
        "mkdir -p /run/nixos && setsid sh -c 'echo $$ > /run/lock-holder.pid; exec flock /run/nixos/switch-to-configuration.lock sleep 300' </dev/null >/dev/null 2>&1 &",
      );
      for (let i = 0; i < 50 && (await lab.t.exec("test -s /run/lock-holder.pid")).code !== 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      const run = await lockdown(lab);
      expect(run.error?.exitCode).toBe(3);
      expect(run.error?.message).toMatch(
        /another switch-to-configuration is running on the target \(the switch-to-configuration lock is held\)\. Nothing was changed/,
      );
      await expectUntouched(lab, before);
      expect((await lab.t.exec("ls /run/nixnode-lockdown 2>/dev/null | wc -l")).stdout.trim()).toBe("0");

      // the holder dies (a crashed switch): the file stays, nobody holds it, the lockdown proceeds
      await lab.t.exec("kill -- -$(cat /run/lock-holder.pid)"); // flock and its sleep: the whole group
      expect((await lab.t.exec("test -e /run/nixos/switch-to-configuration.lock && echo present")).stdout.trim()).toBe(
        "present",
      );
      const again = await lockdown(lab);
      expect(again.error?.message).toBeUndefined();
      expect(again.output).toMatch(/lock file exists but nobody holds it/);
      expect(
        await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath }),
      ).toMatchObject({ ok: true });
    });

    it("the offered key is not authorised: refuses to turn passwords off, nothing changed", async () => {
      lab = await startLab();
      const before = readFileSync(lab.hostJsonPath, "utf8");
      const stranger = await makeKeyPair(lab.work, { comment: "not-authorised" });
      const run = await lockdown(lab, { identityFile: stranger.privatePath });
      expect(run.error?.exitCode).toBe(3);
      expect(run.error?.message).toMatch(
        /no key-only login works on port 22 .*password login stays on and nothing was changed on the target/,
      );
      expect((run.error as { hint?: string }).hint).toMatch(/ssh-copy-id/);
      await expectUntouched(lab, before);
    });
  },
);
