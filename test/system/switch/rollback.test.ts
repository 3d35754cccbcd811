// Switches that must not stick: the new port blocked upstream and a unit that fails to start. Each
// ends with exit 3, the boot default unchanged, and the old port still working with the operator's key.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets";
import { failUnitsInNextBuild, nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab, runSwitchOn } from "./fixture";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`switch rollbacks${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab;
  let bootDefault: string;
  beforeAll(async () => {
    lab = await lockedDownLab();
    bootDefault = (await nixosState(lab.t)).profileLink;
  }, 180_000);
  afterAll(() => lab?.stop());

  /** The previous test's supervisor exits shortly after its rollback: a new switch rightly refuses until then. */
  async function supervisorsGone() {
    const alive = `for f in /run/nixnode-lockdown/*/supervisor.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && echo alive; done; true`;
    for (let i = 0; i < 120; i++) {
      if (!(await lab.t.exec(alive)).stdout.includes("alive")) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error("the previous switch's supervisor was still running after 60 s");
  }

  async function expectStillOn2222() {
    const s = await nixosState(lab.t);
    expect(s.profileLink).toBe(bootDefault);
    expect(s.current).toBe(s.boot);
    expect(await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath })).toMatchObject({
      ok: true,
    });
  }

  it("the new port 2200 blocked upstream: rolled back, 2222 still works, known_hosts unchanged", async () => {
    editHost(lab, (h) => {
      h.ssh.ports = [2200];
      h.firewall.allowedTCPPorts = [...h.firewall.allowedTCPPorts.filter((p) => p !== NEW_PORT), 2200];
    });
    await lab.t.faults.blockPort(2200);
    const r = await runSwitchOn(lab);
    await lab.t.faults.unblockPort(2200);
    expect(r.error?.exitCode).toBe(3);
    expect(r.error?.message).toMatch(/port 2200 never answered from here/);
    expect(r.error?.message).toMatch(/port 2222 works with your key/);
    await expectStillOn2222();
    let kh = "";
    try {
      kh = readFileSync(join(lab.work, "known_hosts"), "utf8");
    } catch {
      kh = "";
    }
    expect(kh).not.toContain(":2200");
  }, 120_000);

  it("a health check failing after the SSH confirmation: rolled back before the ack, its observation and warnings shown", async () => {
    editHost(lab, (h) => {
      h.ssh.ports = [NEW_PORT];
      h.firewall.allowedTCPPorts = [
        ...h.firewall.allowedTCPPorts.filter((p) => p !== 2200 && p !== NEW_PORT),
        NEW_PORT,
      ];
      h.timezone = "Asia/Tokyo";
    });
    await supervisorsGone();
    const r = await runSwitchOn(lab, {
      // reads the switched system over the confirmation's session: it sees the NEW configuration
      healthCheck: async (session, ctx) => {
        const tz = JSON.parse((await session.run("cat /run/current-system/host.json")).stdout).timezone as string;
        return {
          ok: tz !== "Asia/Tokyo",
          observed: `the check saw timezone ${tz} on the switched system (${ctx.stage})`,
          details: [],
          warnings: ["a warning the check printed"],
        };
      },
    });
    expect(r.error?.exitCode).toBe(3);
    expect(r.error?.message).toMatch(
      /switch was rolled back: the check saw timezone Asia\/Tokyo on the switched system/,
    );
    expect((r.error as { hint?: string } | undefined)?.hint).toMatch(/--keep-on-failed-checks/);
    expect(r.output).toContain("a warning the check printed");
    await expectStillOn2222();
  }, 120_000);

  it("a unit that fails to start: rolled back with the unit named", async () => {
    editHost(lab, (h) => {
      h.ssh.ports = [NEW_PORT];
      h.firewall.allowedTCPPorts = [
        ...h.firewall.allowedTCPPorts.filter((p) => p !== 2200 && p !== NEW_PORT),
        NEW_PORT,
      ];
      h.timezone = "Europe/Paris";
    });
    await failUnitsInNextBuild(lab.t, ["bitcoind"]);
    await supervisorsGone();
    const r = await runSwitchOn(lab);
    expect(r.error?.message).toMatch(/the following units failed: bitcoind\.service/);
    expect(r.error?.exitCode).toBe(3);
    await expectStillOn2222();
  }, 120_000);
});
