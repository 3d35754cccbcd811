// `fleet switch` through the real CLI (in-process) on three locked-down NixOS-personality targets
// of one fleet flake: a plain change is confirmed on every host; a change whose new port is
// blocked on the canary rolls the canary back and starts no other host.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { runInProcess } from "../install/run-in-process";
import { NEW_PORT } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editFleetHost, startFleetLab, supervisorsGone, type FleetLab } from "./fleet-switch-fixture";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`fleet switch${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: FleetLab;
  beforeAll(async () => {
    lab = await startFleetLab(3);
  }, 300_000);
  afterAll(() => lab?.stop());

  const fleetSwitch = (...extra: string[]) =>
    runInProcess(
      [
        "fleet",
        "switch",
        "--flake",
        lab.flake,
        "-i",
        lab.key.privatePath,
        "--known-hosts",
        lab.knownHosts,
        "--confirm-timeout",
        "8",
        ...extra,
      ],
      { cwd: lab.work, env: { HOME: lab.work } },
    );
  const states = () => Promise.all(lab.targets.map((t) => nixosState(t)));
  const loginOn = (i: number, port: number) =>
    tryLogin({ host: lab.targets[i]!.address, port, privateKeyPath: lab.key.privatePath });

  it("--dry-run looks at every host and changes none", async () => {
    for (const n of lab.names) editFleetHost(lab, n, (h) => (h.timezone = "Europe/Paris"));
    const before = await states();
    const r = await fleetSwitch("--dry-run");
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    for (const n of lab.names) expect(r.stdout).toMatch(new RegExp(`${n}(?: \\(canary\\))?\\s+dry run`));
    expect(await states()).toEqual(before);
  }, 120_000);

  it("a plain change is confirmed on every host, canary first; each runs it as its boot default", async () => {
    const before = await states();
    const r = await fleetSwitch("--json");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = r.events.find((e) => e.type === "result")!.data as {
      hosts: Array<{ host: string; result: string; generation: number; port: number }>;
    };
    expect(result.hosts.map((h) => h.host)).toEqual(lab.names);
    expect(result.hosts.every((h) => h.result === "confirmed" && h.port === NEW_PORT)).toBe(true);
    // JSON events carry the host each step belongs to
    for (const n of lab.names) expect(r.events.some((e) => e.type === "step" && e.host === n)).toBe(true);
    // the canary confirmed before any other host started switching
    const canaryDone = r.events.findIndex(
      (e) => e.host === lab.names[0] && e.status === "done" && e.phase === "switch",
    );
    const othersStart = r.events.findIndex((e) => e.type === "step" && e.host && e.host !== lab.names[0]);
    expect(canaryDone).toBeGreaterThanOrEqual(0);
    expect(othersStart).toBeGreaterThan(canaryDone);
    const after = await states();
    for (const [i, t] of lab.targets.entries()) {
      expect(after[i]!.profileLink).not.toBe(before[i]!.profileLink);
      expect(after[i]!.current).toBe(after[i]!.boot);
      expect(JSON.parse((await t.exec(`cat ${after[i]!.current}/host.json`)).stdout).timezone).toBe("Europe/Paris");
      expect(await loginOn(i, NEW_PORT)).toMatchObject({ ok: true });
    }
  }, 240_000);

  it("the new port blocked on the canary: it rolls back, the others are not started and keep their generation", async () => {
    await supervisorsGone(lab);
    for (const n of lab.names)
      editFleetHost(lab, n, (h) => {
        h.ssh.ports = [2200];
        h.firewall.allowedTCPPorts = [...h.firewall.allowedTCPPorts.filter((p) => p !== NEW_PORT), 2200];
      });
    const before = await states();
    await lab.targets[0]!.faults.blockPort(2200);
    const r = await fleetSwitch();
    await lab.targets[0]!.faults.unblockPort(2200);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const [canary, ...others] = lab.names;
    expect(r.stdout).toMatch(new RegExp(`${canary} \\(canary\\)\\s+rolled back`));
    for (const n of others) expect(r.stdout).toMatch(new RegExp(`${n}\\s+not started\\s+-\\s+-`));
    expect(r.stdout).toMatch(/port 2200 never answered from here/);
    expect(r.stdout).toMatch(/not started \(their configuration is unchanged\)/);
    const after = await states();
    expect(after).toEqual(before);
    for (const i of [0, 1, 2]) expect(await loginOn(i, NEW_PORT)).toMatchObject({ ok: true });
    // the rolled-back canary's port change never reached known_hosts
    expect(readFileSync(lab.knownHosts, "utf8")).not.toContain(":2200");
  }, 240_000);

  it("a rollback after the canary: the canary keeps the new port, the rolled-back host and the one not started keep theirs", async () => {
    await supervisorsGone(lab);
    // every host.json still asks for port 2200 (the previous test); now host 2 cannot be reached there
    const before = await states();
    await lab.targets[1]!.faults.blockPort(2200);
    const r = await fleetSwitch("--canary", "1", "--parallel", "1");
    await lab.targets[1]!.faults.unblockPort(2200);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const [first, second, third] = lab.names;
    expect(r.stdout).toMatch(new RegExp(`${first} \\(canary\\)\\s+confirmed\\s+\\d+\\s+2200`));
    expect(r.stdout).toMatch(new RegExp(`${second}\\s+rolled back`));
    expect(r.stdout).toMatch(new RegExp(`${third}\\s+not started`));
    expect(r.stdout).toContain(`${first} was switched and confirmed before the stop and keeps the new configuration`);
    const after = await states();
    expect(after[0]!.profileLink).not.toBe(before[0]!.profileLink);
    expect(after[1]).toEqual(before[1]);
    expect(after[2]).toEqual(before[2]);
    expect(await loginOn(0, 2200)).toMatchObject({ ok: true });
    expect(await loginOn(1, NEW_PORT)).toMatchObject({ ok: true });
    expect(await loginOn(2, NEW_PORT)).toMatchObject({ ok: true });
  }, 240_000);

  it("the next fleet switch reaches each host where it answers now (the canary on 2200, recorded) and brings all to 2222", async () => {
    await supervisorsGone(lab);
    for (const n of lab.names)
      editFleetHost(lab, n, (h) => {
        h.ssh.ports = [NEW_PORT];
        h.firewall.allowedTCPPorts = [...h.firewall.allowedTCPPorts.filter((p) => p !== 2200), NEW_PORT];
      });
    const state = JSON.parse(readFileSync(`${lab.flake}/.nixnode/state.json`, "utf8"));
    expect(state.fleetSwitch.hosts[lab.names[0]!].port).toBe(2200);
    const r = await fleetSwitch("--parallel", "2");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const i of [0, 1, 2]) expect(await loginOn(i, NEW_PORT)).toMatchObject({ ok: true });
    expect((await loginOn(0, 2200)).ok).toBe(false);
  }, 240_000);

  it("health beyond SSH as for switch: the mesh interface missing after the switch rolls the canary back, nobody else starts", async () => {
    await supervisorsGone(lab);
    // what `fleet plan` writes into every fleet host's host.json; these targets have no wg-fleet
    for (const n of lab.names)
      editFleetHost(lab, n, (h) => {
        h.timezone = "Europe/Berlin";
        h.health = { checks: [{ kind: "interface", name: "WireGuard mesh", interface: "wg-fleet", timeoutSec: 3 }] };
      });
    const before = await states();
    // a window long enough for the health check to report (40% of it is the checks' share)
    const r = await fleetSwitch("--confirm-timeout", "40");
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`${lab.names[0]} \\(canary\\)\\s+rolled back`));
    expect(r.stdout).toMatch(/health checks? failed.*WireGuard mesh/);
    for (const n of lab.names.slice(1)) expect(r.stdout).toMatch(new RegExp(`${n}\\s+not started`));
    expect(await states()).toEqual(before);
  }, 240_000);
});
