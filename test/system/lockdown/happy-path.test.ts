// A full lockdown against a real sshd + fail2ban + firewall: afterwards passwords are refused,
// the key works on the new port only, 22 no longer answers, fail2ban ignores the operator, and
// the flake records what happened (host.json, README recovery notes, state.json, known_hosts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKnownHosts } from "../../../src/remote/known-hosts";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, lockdown, startLab, type Lab, type LockdownRun } from "./fixture";
import { offeredMethods, tryLogin } from "./login";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`lockdown happy path${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab;
  let run: LockdownRun;
  beforeAll(async () => {
    lab = await startLab();
    run = await lockdown(lab, { sshConfigBlock: true });
  }, 120_000);
  afterAll(() => lab?.stop());

  it("finishes with the final state confirmed", () => {
    expect(run.error?.message).toBeUndefined();
    expect(run.result!.generations).toEqual({ before: 1, dualPort: 2, final: 3 });
    expect(run.output).toContain(`stage 2 confirmed on port ${NEW_PORT}`);
  });

  it("refuses passwords and answers keys on the new port only", async () => {
    const { t, key } = lab;
    expect(await offeredMethods(t.address, NEW_PORT)).toEqual(["publickey"]);
    expect(await tryLogin({ host: t.address, port: NEW_PORT, password: t.rootPassword })).toMatchObject({ ok: false });
    expect(await tryLogin({ host: t.address, port: NEW_PORT, privateKeyPath: key.privatePath })).toMatchObject({
      ok: true,
    });
    expect(
      await tryLogin({ host: t.address, port: 22, privateKeyPath: key.privatePath, timeoutMs: 3000 }),
    ).toMatchObject({ ok: false });
  });

  it("made it the boot default: a reboot keeps the locked-down state", async () => {
    const s = await nixosState(lab.t);
    expect(s.profileLink).toBe("system-3-link");
    expect(s.current).toBe(s.boot);
    await lab.t.simulateReboot();
    expect(await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath })).toMatchObject({
      ok: true,
    });
    expect(await offeredMethods(lab.t.address, NEW_PORT)).toEqual(["publickey"]);
  });

  it("runs fail2ban with the operator's address ignored", async () => {
    const r = await lab.t.exec(`fail2ban-client -s ${lab.t.dir}/fail2ban/fail2ban.sock get sshd ignoreip`);
    expect(r.stdout).toContain(lab.t.operatorAddress);
  });

  it("20 failed logins from the operator's address never ban it, while another address is banned", async () => {
    const { t, key } = lab;
    const f2b = (args: string) => t.exec(`fail2ban-client -s ${t.dir}/fail2ban/fail2ban.sock ${args}`);
    for (let i = 0; i < 20; i++) {
      expect(
        await tryLogin({ host: t.address, port: NEW_PORT, username: `admin${i}`, password: "wrong" }),
      ).toMatchObject({ ok: false });
    }
    const other = await t.addClientAddress();
    let banned = "";
    for (let i = 0; i < 40 && !banned.includes(other); i++) {
      await tryLogin({
        host: t.address,
        port: NEW_PORT,
        username: `guest${i}`,
        password: "wrong",
        localAddress: other,
        timeoutMs: 2000,
      });
      banned = (await f2b("get sshd banned")).stdout;
    }
    expect(banned).toContain(other);
    expect(banned).not.toContain(t.operatorAddress);
    // the log really holds the operator's 20 failures: they were seen and ignored, not missed
    const log = await t.sshdLog();
    expect(
      log.match(new RegExp(`Invalid user admin\\d+ from ${t.operatorAddress.replace(/\./g, "\\.")}`, "g"))?.length,
    ).toBeGreaterThanOrEqual(20);
    expect(
      await tryLogin({
        host: t.address,
        port: NEW_PORT,
        privateKeyPath: key.privatePath,
        localAddress: other,
        timeoutMs: 3000,
      }),
    ).toMatchObject({ ok: false });
    expect(await tryLogin({ host: t.address, port: NEW_PORT, privateKeyPath: key.privatePath })).toMatchObject({
      ok: true,
    });
  });

  it("running it again on the new port only checks that the state holds", async () => {
    const again = await lockdown(lab, { via: NEW_PORT });
    expect(again.error?.message).toBeUndefined();
    expect(again.output).toContain(`already locked down on port ${NEW_PORT}`);
    expect((await nixosState(lab.t)).profileLink).toBe("system-3-link");
  });

  it("records the hand-off: host.json, known_hosts, README notes, state.json, ssh config block", () => {
    const host = JSON.parse(readFileSync(lab.hostJsonPath, "utf8"));
    expect(host.ssh).toMatchObject({
      ports: [NEW_PORT],
      passwordAuthentication: false,
      permitRootLogin: "prohibit-password",
    });
    expect(host.fail2ban.ignoreIP).toContain(lab.t.operatorAddress);
    expect(host.lockdown).toEqual({ stage: "final", port: NEW_PORT });
    const kh = parseKnownHosts(readFileSync(run.knownHosts, "utf8"));
    expect(kh.map((e) => e.hosts)).toEqual([`[${lab.t.address}]:${NEW_PORT}`]);
    const readme = readFileSync(join(lab.flake, "README.md"), "utf8");
    expect(readme).toContain("The operator's own notes.");
    expect(readme).toContain("--switch-generation 1");
    const state = JSON.parse(readFileSync(join(lab.flake, ".nixnode/state.json"), "utf8"));
    expect(state.install).toEqual({ verified: true });
    expect(state.lockdown).toMatchObject({
      stage: "final",
      port: NEW_PORT,
      generations: { before: 1, dualPort: 2, final: 3 },
    });
    expect(run.output).toContain(`Port ${NEW_PORT}`);
  });
});
