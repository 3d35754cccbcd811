// `fleet switch`: the edited fleet flake applied host by host through the SAME guarded switch as
// `nixnode-install switch` (runSwitch, one host at a time per connection), canary hosts first (in
// inventory order), then the rest N at a time. The rollout stops at the first host that does not
// confirm: hosts not started yet stay untouched ("not started"); hosts already switched keep the new
// configuration (each was confirmed on its own), which the end table says.
import { existsSync, readFileSync } from "node:fs";
import { OperationError, UserError, badField, type NixnodeError } from "../errors";
import { readStateFile, updateStateFile } from "../flake/state-file";
import { prepareLockdown, type PreparedLockdown } from "../lockdown";
import type { FlakeHost } from "../lockdown/flake-files";
import { keyOnlyConnector } from "../lockdown/ssh-connector";
import { connectSsh, type ConnectOptions, type SshTarget } from "../remote/ssh-target";
import { healthCheckFor } from "../switch/health";
import { proveKeyLogin } from "../switch/prove-key";
import { runSwitch, type SwitchResult } from "../switch/run-switch";
import type { Log } from "../ui/log";
import type { NixnodeEvent, Output } from "../ui/output";
import { isObject } from "../util/fields";
import { FLEET_DATA, readFleetData, type FleetData } from "./fleet-data";

export const DEFAULT_CANARY = 1;
export const DEFAULT_SWITCH_PARALLEL = 4;
export const FLEET_SWITCH_STATE_KEY = "fleetSwitch";

export type HostResult = "confirmed" | "dry run" | "refused" | "rolled back" | "failed" | "not started";

export interface HostOutcome {
  host: string;
  canary: boolean;
  result: HostResult;
  generation: number | null;
  port: number | null;
  message?: string;
  hint?: string;
}

/** What one host's switch returns (runSwitch's result, or the part the rollout needs). */
export type SwitchOne = (host: string) => Promise<Pick<SwitchResult, "generation" | "port" | "dryRun">>;

/** The error of one host's switch, as a row of the end table. */
export function outcomeOfError(host: string, canary: boolean, e: unknown): HostOutcome {
  const err = e as Partial<NixnodeError> & Error;
  const message = err?.message ?? String(e);
  // exit 2 from runSwitch: refused before activation, nothing changed on that host
  const result: HostResult =
    err?.exitCode === 2
      ? "refused"
      : err?.exitCode === 3 && /rolled back|rolls back/.test(message)
        ? "rolled back"
        : "failed";
  return { host, canary, result, generation: null, port: null, message, hint: err?.hint };
}

/** Canary hosts (the first `canary` in inventory order) and the rest. */
export function rolloutOrder(hosts: string[], canary: number): { canaries: string[]; rest: string[] } {
  return { canaries: hosts.slice(0, canary), rest: hosts.slice(canary) };
}

/**
 * The rollout: canaries one after another, then the rest `parallel` at a time. A switch is never
 * interrupted (it is guarded on the host itself); after the first host that does not confirm, no
 * NEW host starts. A dry run changes nothing, so it looks at every host whatever one answers.
 */
export async function rollout(
  hosts: string[],
  opts: { canary: number; parallel: number; dryRun: boolean; signal?: AbortSignal },
  switchOne: SwitchOne,
): Promise<HostOutcome[]> {
  const { canaries, rest } = rolloutOrder(hosts, opts.canary);
  const outcomes = new Map<string, HostOutcome>();
  let stopped = false;
  // Ctrl-C: the switches in flight end guarded (runSwitch has the signal); no new host starts
  opts.signal?.addEventListener("abort", () => (stopped = true), { once: true });
  const one = async (host: string, canary: boolean) => {
    if (stopped || opts.signal?.aborted) return;
    let o: HostOutcome;
    try {
      const r = await switchOne(host);
      o = { host, canary, result: r.dryRun ? "dry run" : "confirmed", generation: r.generation, port: r.port };
    } catch (e) {
      o = outcomeOfError(host, canary, e);
      if (!opts.dryRun) stopped = true;
    }
    outcomes.set(host, o);
  };
  for (const h of canaries) {
    if (stopped) break;
    await one(h, true);
  }
  const queue = stopped ? [] : [...rest];
  const worker = async () => {
    for (let h = queue.shift(); h !== undefined && !stopped; h = queue.shift()) await one(h, false);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, queue.length)) }, worker));
  return hosts.map(
    (host) =>
      outcomes.get(host) ?? {
        host,
        canary: canaries.includes(host),
        result: "not started",
        generation: null,
        port: null,
      },
  );
}

/**
 * 0: every host confirmed (or looked at, in a dry run); 2: only refusals before activation and no
 * host switched (nothing changed anywhere); 3: a rollback, a failure, or a fleet left half switched.
 */
export function fleetSwitchExitCode(outcomes: HostOutcome[]): 0 | 2 | 3 {
  const bad = outcomes.filter((o) => o.result !== "confirmed" && o.result !== "dry run" && o.result !== "not started");
  if (bad.length === 0) return 0;
  const onlyRefused = bad.every((o) => o.result === "refused") && !outcomes.some((o) => o.result === "confirmed");
  return onlyRefused ? 2 : 3;
}

export function renderOutcomeTable(outcomes: HostOutcome[]): string {
  const rows = [
    ["host", "result", "generation", "port"],
    ...outcomes.map((o) => [
      o.host + (o.canary ? " (canary)" : ""),
      o.result,
      o.generation === null ? "-" : String(o.generation),
      o.port === null ? "-" : String(o.port),
    ]),
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** What the end says besides the table: why it stopped, and what the switched hosts run. */
export function rolloutSummary(outcomes: HostOutcome[]): string[] {
  const lines: string[] = [];
  const stop = outcomes.find((o) => ["refused", "rolled back", "failed"].includes(o.result));
  const done = outcomes.filter((o) => o.result === "confirmed").map((o) => o.host);
  const notStarted = outcomes.filter((o) => o.result === "not started").map((o) => o.host);
  if (stop) {
    lines.push(`${stop.host}: ${stop.result}: ${stop.message ?? ""}`.trimEnd());
    if (stop.hint) lines.push(`  ${stop.hint}`);
    for (const o of outcomes.filter((x) => x !== stop && x.message)) lines.push(`${o.host}: ${o.result}: ${o.message}`);
    if (notStarted.length)
      lines.push(`The rollout stopped: ${notStarted.join(", ")} not started (their configuration is unchanged).`);
    if (done.length)
      lines.push(
        `${done.join(", ")} ${done.length === 1 ? "was" : "were"} switched and confirmed before the stop and keep${done.length === 1 ? "s" : ""} the new configuration.`,
      );
  }
  return lines;
}

/** The hosts to switch, in inventory order (fleet/fleet.json), from --hosts a,b or all. */
export function selectHosts(data: FleetData, hostsFlag: string | undefined): string[] {
  const all = Object.keys(data.hosts);
  if (hostsFlag === undefined) return all;
  const wanted = hostsFlag
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 0) throw badField("--hosts", "names no host", `e.g. --hosts ${all.slice(0, 2).join(",")}`);
  const unknown = wanted.filter((n) => !all.includes(n));
  if (unknown.length)
    throw badField(
      "--hosts",
      `${unknown.map((n) => JSON.stringify(n)).join(", ")} ${unknown.length === 1 ? "is" : "are"} not in ${FLEET_DATA}`,
      `the fleet's hosts are ${all.join(", ")}`,
    );
  return all.filter((n) => wanted.includes(n));
}

export function parseCount(v: unknown, flag: string, min: number, max: number, example: string): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!/^\d{1,4}$/.test(s) || Number(s) < min || Number(s) > max)
    throw badField(flag, `"${s}" is not a whole number from ${min} to ${max}`, example);
  return Number(s);
}

/** The fleet flake's data; refused (exit 2) when the folder is not a fleet plan. */
export function loadFleetForSwitch(flakeDir: string, field = "--flake"): FleetData {
  if (!existsSync(flakeDir))
    throw badField(field, `${flakeDir} does not exist`, "give the folder `fleet plan --out` wrote");
  const data = readFleetData(flakeDir);
  if (!data)
    throw new UserError(`${field}: ${flakeDir} holds no fleet plan (${FLEET_DATA})`, {
      field,
      hint: "give the folder `fleet plan --out` wrote, or use `nixnode-install switch` for a single node",
    });
  return data;
}

/**
 * Ports to try, in order, for the host's SSH now: the port the last `fleet switch` confirmed, the
 * locked-down port of host.json (lockdown.stage final), then the deployment port of fleet.json.
 * Only the pinned host key is ever accepted, so trying the next one leaks nothing.
 */
export function currentPorts(flakeDir: string, data: FleetData, flake: FlakeHost): number[] {
  const state = readStateFile(flakeDir)[FLEET_SWITCH_STATE_KEY];
  const recorded =
    isObject(state) && isObject(state.hosts) && isObject(state.hosts[flake.hostname])
      ? (state.hosts[flake.hostname] as Record<string, unknown>).port
      : undefined;
  const ports = [
    typeof recorded === "number" ? recorded : null,
    flake.host.lockdown.stage === "final" ? flake.host.lockdown.port : null,
    data.hosts[flake.hostname]?.deployment.targetPort ?? null,
  ];
  return [...new Set(ports.filter((p): p is number => typeof p === "number" && p >= 1 && p <= 65535))];
}

/** After a confirmed switch: where the host answers now (the next fleet switch connects there first). */
export function recordSwitched(flakeDir: string, host: string, port: number, generation: number | null): void {
  updateStateFile(flakeDir, (all) => {
    const prev = isObject(all[FLEET_SWITCH_STATE_KEY]) ? (all[FLEET_SWITCH_STATE_KEY] as Record<string, unknown>) : {};
    const hosts = isObject(prev.hosts) ? prev.hosts : {};
    all[FLEET_SWITCH_STATE_KEY] = {
      ...prev,
      hosts: { ...hosts, [host]: { port, generation, confirmedAt: new Date().toISOString() } },
    };
  });
}

/**
 * One host's lines in the shared output: text prefixed with its name; JSON events carry a `host`
 * field (as `fleet install`'s do) and keep their own task (the guarded stage's "stage" events).
 */
export function hostOutput(out: Output, host: string): Output {
  const pre = (s: string) => (out.json ? s : s.replace(/^(?=.)/gm, `[${host}] `));
  return {
    json: out.json,
    color: out.color,
    interactive: false,
    info: (m, d) =>
      out.info(
        pre(m),
        out.json ? { host, ...(isObject(d) && !("host" in d) ? d : d === undefined ? {} : { data: d }) } : d,
      ),
    warn: (m, h) => out.warn(`[${host}] ${m}`, h),
    step: (phase, status, message, extra) =>
      out.step(phase, status, message === undefined ? undefined : pre(message), {
        ...extra,
        host,
      } as Partial<NixnodeEvent>),
    result: (h, d) => out.info(pre(h), { host, result: d }),
    error: (e) => out.warn(`[${host}] ${e.message}`, e.hint),
    text: (s) => out.text(pre(s)),
  };
}

export interface FleetSwitchOptions {
  flakeDir: string;
  /** --hosts a,b (inventory order is kept); default every host. */
  hosts?: string;
  canary?: number;
  parallel?: number;
  confirmTimeoutSec?: number;
  dryRun: boolean;
  /** --keep-on-failed-checks: a failing host.json health check warns instead of rolling back (as for `switch`). */
  keepOnFailedChecks?: boolean;
  /** The operator's SSH settings (keys, known_hosts, agent) for one host's address and user. */
  sshFor(address: string, user: string): ConnectOptions;
  out: Output;
  log: Log;
  signal?: AbortSignal;
}

export interface FleetSwitchReport {
  outcomes: HostOutcome[];
  exitCode: 0 | 2 | 3;
}

interface PreparedHost {
  name: string;
  address: string;
  user: string;
  ports: number[];
  prepared: PreparedLockdown;
}

/** Every selected host checked locally (host.json, pinned key, a port to reach it) before the first packet. */
function prepareHosts(o: FleetSwitchOptions, data: FleetData, names: string[]): PreparedHost[] {
  return names.map((name) => {
    const d = data.hosts[name]!;
    const prepared = prepareLockdown({ flakeDir: o.flakeDir, hostname: name, confirmTimeoutSec: o.confirmTimeoutSec });
    const ports = currentPorts(o.flakeDir, data, prepared.flake);
    if (!ports.length)
      throw badField(
        `${FLEET_DATA}: hosts.${name}.deployment.targetPort`,
        "no SSH port is known for this host",
        "run `fleet plan` again, or lock the host down first",
      );
    return { name, address: d.deployment.targetHost, user: d.deployment.targetUser, ports, prepared };
  });
}

async function connectFirst(base: ConnectOptions, ports: number[], pinned: string, log: Log) {
  const errors: string[] = [];
  for (const port of ports) {
    try {
      const s: SshTarget = await connectSsh({
        ...base,
        port,
        pinnedHostKey: pinned,
        acceptNewHostKey: false,
        // key-only, like every connection of a guarded switch
        password: undefined,
        askPassword: undefined,
        confirmHostKey: undefined,
      });
      return { session: s, port };
    } catch (e) {
      errors.push(`port ${port}: ${(e as Error).message}`);
      log.write(`fleet switch: ${base.host}:${port}: ${(e as Error).message}`);
    }
  }
  throw new OperationError(`no SSH login with the pinned host key ${pinned} worked; nothing was changed`, {
    details: errors,
    hint: "check that the host is up and which port it listens on (fleet/fleet.json deployment.targetPort)",
  });
}

export async function runFleetSwitch(o: FleetSwitchOptions): Promise<FleetSwitchReport> {
  const data = loadFleetForSwitch(o.flakeDir);
  const names = selectHosts(data, o.hosts);
  const canary = o.canary ?? Math.min(DEFAULT_CANARY, names.length);
  if (canary > names.length)
    throw badField(
      "--canary",
      `${canary} canary hosts, but only ${names.length} ${names.length === 1 ? "host is" : "hosts are"} selected`,
      `use --canary ${names.length} or fewer`,
    );
  const hosts = new Map(prepareHosts(o, data, names).map((h) => [h.name, h]));
  const outcomes = await rollout(
    names,
    { canary, parallel: o.parallel ?? DEFAULT_SWITCH_PARALLEL, dryRun: o.dryRun, signal: o.signal },
    async (name) => {
      const h = hosts.get(name)!;
      const out = hostOutput(o.out, name);
      const base = o.sshFor(h.address, h.user);
      const pinned = h.prepared.pinned;
      out.step("connect", "start", `connecting to ${h.user}@${h.address} (port ${h.ports.join(" or ")})`);
      const { session, port } = await connectFirst(base, h.ports, pinned, o.log);
      try {
        const operatorKeys = (base.identityFiles ?? [])
          .filter((f) => existsSync(`${f}.pub`))
          .map((f) => ({ publicKey: readFileSync(`${f}.pub`, "utf8").trim(), privatePath: f }));
        const r = await runSwitch({
          primary: session,
          currentPort: port,
          connector: keyOnlyConnector({ base: { ...base, log: o.log }, pinnedHostKey: pinned }),
          flake: h.prepared.flake,
          pinned,
          operatorKeys,
          proveKeyLogin: (privatePath, p) => proveKeyLogin(base, pinned, privatePath, p, (l) => o.log.write(l)),
          confirmTimeoutSec: h.prepared.confirmTimeoutSec,
          dryRun: o.dryRun,
          knownHostsFile: base.knownHostsFiles?.[0] ?? null,
          out,
          log: o.log,
          signal: o.signal,
          // the same health beyond SSH as `switch`: host.json's health.checks (a fleet host's mesh interface)
          healthCheck: healthCheckFor(h.prepared.flake.host, {
            keepOnFailedChecks: o.keepOnFailedChecks === true,
            log: (l) => o.log.write(`fleet switch: ${name}: ${l}`),
          }),
        });
        if (!r.dryRun) recordSwitched(o.flakeDir, name, r.port, r.generation);
        return r;
      } finally {
        await session.close().catch(() => undefined);
      }
    },
  );
  return { outcomes, exitCode: fleetSwitchExitCode(outcomes) };
}
