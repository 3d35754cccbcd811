// The rollout's order and stop rule with in-process switches (the real guarded switch on real
// targets is test/system/fleet/fleet-switch.test.ts): canaries one by one in inventory order, the
// rest N at a time, and no NEW host after the first one that does not confirm.
import { describe, expect, it } from "vitest";
import { OperationError, UserError } from "../../../src/errors";
import {
  fleetSwitchExitCode,
  renderOutcomeTable,
  rollout,
  rolloutSummary,
  selectHosts,
  type SwitchOne,
} from "../../../src/fleet/switch-fleet";
import type { FleetData } from "../../../src/fleet/fleet-data";

const HOSTS = ["c1", "n1", "n2", "n3", "n4", "n5"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake switch that records start/end order and concurrency; `fail` maps a host to its error. */
function fake(fail: Record<string, Error> = {}, delayMs: Record<string, number> = {}) {
  const started: string[] = [];
  const events: string[] = [];
  let running = 0;
  let peak = 0;
  const one: SwitchOne = async (h) => {
    started.push(h);
    events.push(`start ${h}`);
    running++;
    peak = Math.max(peak, running);
    await sleep(delayMs[h] ?? 5);
    running--;
    events.push(`end ${h}`);
    if (fail[h]) throw fail[h];
    return { generation: 7, port: 2222, dryRun: false };
  };
  return { one, started, events, peak: () => peak };
}

const rolledBack = () =>
  new OperationError("switch was rolled back: port 2200 never answered from here; port 2222 works with your key");

describe("fleet switch rollout", () => {
  it("canaries run one by one first, then the rest at most --parallel at a time; all confirmed: exit 0", async () => {
    const f = fake();
    const out = await rollout(HOSTS, { canary: 2, parallel: 2, dryRun: false }, f.one);
    expect(f.events.slice(0, 4)).toEqual(["start c1", "end c1", "start n1", "end n1"]);
    expect(f.started).toEqual(HOSTS);
    expect(f.peak()).toBe(2);
    expect(out.map((o) => o.result)).toEqual(Array(6).fill("confirmed"));
    expect(out.filter((o) => o.canary).map((o) => o.host)).toEqual(["c1", "n1"]);
    expect(fleetSwitchExitCode(out)).toBe(0);
  });

  it("a canary that rolls back: nobody else starts, exit 3, the others reported not started", async () => {
    const f = fake({ c1: rolledBack() });
    const out = await rollout(HOSTS, { canary: 1, parallel: 4, dryRun: false }, f.one);
    expect(f.started).toEqual(["c1"]);
    expect(out[0]).toMatchObject({ host: "c1", result: "rolled back", canary: true });
    expect(out.slice(1).every((o) => o.result === "not started")).toBe(true);
    expect(fleetSwitchExitCode(out)).toBe(3);
    const text = rolloutSummary(out).join("\n");
    expect(text).toMatch(/not started \(their configuration is unchanged\)/);
    expect(text).not.toMatch(/keep/);
  });

  it("a rollback in the parallel part: hosts in flight finish, no new host starts, switched ones are named", async () => {
    const f = fake({ n2: rolledBack() }, { n1: 60, n2: 5 });
    const out = await rollout(HOSTS, { canary: 1, parallel: 2, dryRun: false }, f.one);
    // n1 and n2 run together; n2's rollback (n1 still switching) stops n3.. from starting, n1 ends confirmed
    expect(f.started).toEqual(["c1", "n1", "n2"]);
    expect(out.map((o) => o.result)).toEqual([
      "confirmed",
      "confirmed",
      "rolled back",
      "not started",
      "not started",
      "not started",
    ]);
    expect(fleetSwitchExitCode(out)).toBe(3);
    expect(rolloutSummary(out).join("\n")).toMatch(/c1, n1 were switched and confirmed before the stop and keep/);
    const table = renderOutcomeTable(out);
    expect(table.split("\n")[0]).toMatch(/^host\s+result\s+generation\s+port$/);
    expect(table).toMatch(/c1 \(canary\)\s+confirmed\s+7\s+2222/);
    expect(table).toMatch(/n3\s+not started\s+-\s+-/);
  });

  it("a refusal on the canary (nothing activated anywhere) is exit 2; after a confirmed host it is exit 3", async () => {
    const refused = new UserError("refused before activation: the firewall would drop your SSH port 2222");
    const a = await rollout(HOSTS, { canary: 1, parallel: 4, dryRun: false }, fake({ c1: refused }).one);
    expect(a[0]!.result).toBe("refused");
    expect(fleetSwitchExitCode(a)).toBe(2);
    const b = await rollout(HOSTS, { canary: 2, parallel: 4, dryRun: false }, fake({ n1: refused }).one);
    expect(b.map((o) => o.result).slice(0, 3)).toEqual(["confirmed", "refused", "not started"]);
    expect(fleetSwitchExitCode(b)).toBe(3);
  });

  it("a connection failure that is no rollback is reported as failed and also stops the rollout", async () => {
    const f = fake({ c1: new OperationError("no SSH login with the pinned host key worked; nothing was changed") });
    const out = await rollout(HOSTS, { canary: 1, parallel: 4, dryRun: false }, f.one);
    expect(out[0]!.result).toBe("failed");
    expect(f.started).toEqual(["c1"]);
    expect(fleetSwitchExitCode(out)).toBe(3);
  });

  it("Ctrl-C during the canary: it ends (guarded, with the signal), no other host starts", async () => {
    const ac = new AbortController();
    const f = fake();
    const one: SwitchOne = async (h) => {
      if (h === "c1") ac.abort();
      return f.one(h);
    };
    const out = await rollout(HOSTS, { canary: 1, parallel: 4, dryRun: false, signal: ac.signal }, one);
    expect(f.started).toEqual(["c1"]);
    expect(out.slice(1).every((o) => o.result === "not started")).toBe(true);
  });

  it("--canary 0: every host in parallel from the start", async () => {
    const f = fake();
    await rollout(HOSTS.slice(0, 3), { canary: 0, parallel: 4, dryRun: false }, f.one);
    expect(f.events.slice(0, 3)).toEqual(["start c1", "start n1", "start n2"]);
  });

  it("a dry run looks at every host even when one cannot be read", async () => {
    const f = fake({ c1: new OperationError("connection refused") });
    const dry: SwitchOne = async (h) => ({ ...(await f.one(h)), dryRun: true });
    const out = await rollout(HOSTS, { canary: 1, parallel: 4, dryRun: true }, dry);
    expect(f.started.sort()).toEqual([...HOSTS].sort());
    expect(out.slice(1).every((o) => o.result === "dry run")).toBe(true);
  });

  it("--hosts keeps inventory order and refuses unknown names naming the flag", () => {
    const data = { hosts: Object.fromEntries(HOSTS.map((h) => [h, {}])) } as unknown as FleetData;
    expect(selectHosts(data, "n3,c1")).toEqual(["c1", "n3"]);
    expect(selectHosts(data, undefined)).toEqual(HOSTS);
    expect(() => selectHosts(data, "n1,nope")).toThrow(/--hosts: "nope" is not in fleet\/fleet.json/);
    expect(() => selectHosts(data, ",")).toThrow(/--hosts: names no host/);
  });
});
