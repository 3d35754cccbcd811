// `lockdown` after an install that never completed (issue 10.11): the machine still presents the key
// of the system that was there before the install, which state.json recorded as the install's
// previousHostKey. The command says the install did not complete and how to resume it, instead of
// "THE HOST KEY HAS CHANGED ... someone may be intercepting" with a --host-key hint that is then
// refused. A key that is NOT the recorded previous one, or a verified install, still gets the alarm.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { makeKeyPair } from "../../helpers/ssh-keys";
import { targetsSupported } from "../../targets";
import { lockdownArgs, startLab, type Lab } from "./fixture";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(
  `lockdown after an unfinished install${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let lab: Lab;
    let newSystemKey = "";
    let hostJsonBefore = "";
    beforeAll(async () => {
      lab = await startLab();
      // host.json pins the key the install generated for the NEW system; the target still runs the old one
      newSystemKey = (await makeKeyPair(lab.work, { comment: "new-system-host-key" })).fingerprint;
      const host = JSON.parse(readFileSync(lab.hostJsonPath, "utf8"));
      host.ssh.hostKeyFingerprint = newSystemKey;
      writeFileSync(lab.hostJsonPath, JSON.stringify(host, null, 2) + "\n");
      hostJsonBefore = readFileSync(lab.hostJsonPath, "utf8");
    });
    afterAll(async () => {
      await lab?.stop();
    });

    function writeInstallState(install: Record<string, unknown>) {
      writeFileSync(
        join(lab.flake, ".nixnode", "state.json"),
        JSON.stringify({ schema: 1, hostname: lab.t.name, phases: { install: "started" }, install }, null, 2),
      );
    }
    const install = (over: Record<string, unknown>) => ({
      target: `root@${lab.t.address}:22`,
      engine: "nixos-anywhere",
      previousHostKey: lab.fingerprint,
      pinnedHostKey: newSystemKey,
      bootIdBefore: null,
      phasesDone: ["kexec"],
      phaseRunning: "disko",
      verified: false,
      updatedAt: new Date().toISOString(),
      ...over,
    });
    const lockdown = () => runCli(lockdownArgs(lab), { env: { HOME: lab.work } });

    it("the pre-install key of an unverified install: says the install did not complete and how to resume", async () => {
      writeInstallState(install({}));
      const logBefore = (await lab.t.sshdLog()).length;
      const r = await lockdown();
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/the install of this machine did not complete \(it stopped during the disko phase\)/);
      expect(r.stderr).toContain(`presented: ${lab.fingerprint}`);
      expect(r.stderr).toContain(newSystemKey);
      expect(r.stderr).toContain(`nixnode-install root@${lab.t.address} --flake ${lab.flake}`);
      expect(r.stderr).toMatch(/resumes from \.nixnode\/state\.json/);
      expect(r.stderr).not.toMatch(/THE HOST KEY HAS CHANGED|intercepting|--host-key/);
      // nothing beyond the handshake: no login, and the flake is as it was
      expect((await lab.t.sshdLog()).slice(logBefore)).not.toMatch(/Accepted|Failed|session opened/);
      expect(readFileSync(lab.hostJsonPath, "utf8")).toBe(hostJsonBefore);
    });

    it("a key that is not the recorded previous one is still a changed host key (the alarm stays)", async () => {
      const other = (await makeKeyPair(lab.work, { comment: "someone-else" })).fingerprint;
      writeInstallState(install({ previousHostKey: other }));
      const r = await lockdown();
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/THE HOST KEY HAS CHANGED/);
      expect(r.stderr).not.toMatch(/did not complete/);
    });

    it("a verified install presenting its old key is still a changed host key", async () => {
      writeInstallState(
        install({ verified: true, phaseRunning: null, phasesDone: ["kexec", "disko", "install", "reboot"] }),
      );
      const r = await lockdown();
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/THE HOST KEY HAS CHANGED/);
      expect(r.stderr).not.toMatch(/did not complete/);
    });
  },
);
