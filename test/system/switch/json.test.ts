// The --json contract of `switch` (the built CLI against a locked-down lab): every stdout line is
// one JSON event; a confirmed switch is a stage start, a stage done (generation, timing, what
// confirmed it) and a result; a rolled-back one is a stage start, a stage fail (what was observed)
// and an error with exit code 3. Names and fields: docs/switch.md "--json events".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { editHost, lockedDownLab } from "./fixture";
import { supervisorsGone, switchArgs } from "./switch-watch";

const supported = targetsSupported();

type Ev = Record<string, unknown> & { data?: Record<string, unknown> };
const stageEvents = (evs: Ev[]) => evs.filter((e) => e.type === "step" && e.task === "stage");

describe.skipIf(!supported.ok)(`switch --json${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await lockedDownLab();
  }, 180_000);
  afterAll(() => lab?.stop());

  it("a confirmed switch: stage start, stage done with generation and timing, then the result", async () => {
    editHost(lab, (h) => (h.timezone = "Asia/Tokyo"));
    const r = await runCli([...switchArgs(lab, NEW_PORT, "--confirm-timeout", "30"), "--json"], {
      env: { HOME: lab.work },
      timeoutMs: 150_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const evs = r.events as Ev[];
    for (const e of evs) expect(typeof e.time).toBe("number");
    expect(evs.filter((e) => e.type === "error")).toEqual([]);
    const generation = Number(/system-(\d+)-link/.exec((await nixosState(lab.t)).profileLink)![1]);
    const stages = stageEvents(evs);
    expect(stages.map((e) => [e.phase, e.status])).toEqual([
      ["switch", "start"],
      ["switch", "done"],
    ]);
    const [start, done] = stages as [Ev, Ev];
    expect(start.data).toEqual({ stage: "final", name: "switch", host: lab.t.address, port: NEW_PORT });
    expect(done.data).toMatchObject({
      stage: "final",
      host: lab.t.address,
      port: NEW_PORT,
      generation,
      observed: `confirmed on port ${NEW_PORT}`,
    });
    const timing = done.data!.timing as Record<string, number>;
    for (const k of ["activationMs", "confirmationMs", "acknowledgementMs"])
      expect(timing[k]).toBeGreaterThanOrEqual(0);
    expect(done.data!.elapsedMs).toBeGreaterThan(timing.activationMs!);
    const last = evs[evs.length - 1]!;
    expect(last.type).toBe("result");
    expect(last.data).toMatchObject({ host: lab.t.address, port: NEW_PORT, dryRun: false, generation });
    expect(evs.indexOf(start)).toBeLessThan(evs.indexOf(done));
  }, 200_000);

  it("a rolled-back switch: stage start, stage fail with what was observed, then an error with exit code 3", async () => {
    await supervisorsGone(lab.t);
    const before = await nixosState(lab.t);
    editHost(lab, (h) => {
      h.ssh.ports = [2200];
      h.firewall.allowedTCPPorts = [...h.firewall.allowedTCPPorts.filter((p) => p !== NEW_PORT), 2200];
    });
    await lab.t.faults.blockPort(2200);
    let r;
    try {
      r = await runCli([...switchArgs(lab, NEW_PORT, "--confirm-timeout", "8"), "--json"], {
        env: { HOME: lab.work },
        timeoutMs: 150_000,
      });
    } finally {
      await lab.t.faults.unblockPort(2200);
    }
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const evs = r.events as Ev[];
    const stages = stageEvents(evs);
    expect(stages.map((e) => e.status)).toEqual(["start", "fail"]);
    expect(stages[0]!.data).toEqual({ stage: "final", name: "switch", host: lab.t.address, port: 2200 });
    expect(stages[1]!.data).toMatchObject({ stage: "final", host: lab.t.address, port: 2200 });
    expect(String(stages[1]!.data!.observed)).toMatch(/port 2200 never answered from here/);
    expect(evs.filter((e) => e.type === "result")).toEqual([]);
    const last = evs[evs.length - 1]!;
    expect(last).toMatchObject({ type: "error", exitCode: 3 });
    expect(String(last.message)).toMatch(/rolled back: port 2200 never answered.*port 2222 works with your key/);
    expect((await nixosState(lab.t)).profileLink).toBe(before.profileLink);
  }, 200_000);
});
