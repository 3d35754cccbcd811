// `nixnode-install fleet install`: checks every flag and every host's files before the first
// packet (exit 2, nothing changed), looks at the selected hosts, asks every question, installs and
// locks down the hosts N at a time, and ends with one table. Exit 0 only when every host is done.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { CommandContext, OptionSpec } from "../cli/command";
import { operatorIdentitiesFromCli } from "../cli/operator-identities";
import { SSH_CLI_OPTIONS, sshSettingsFromCli } from "../cli/target-options";
import { UserError, badField } from "../errors";
import { hostFileOf, readHostFileAt } from "../flake/host-file";
import type { AgeIdentity } from "../secrets/age";
import { operatorPublicKeys } from "../install/operator-keys";
import type { Prompter } from "../ui/prompter";
import { FLEET_DATA, readFleetData } from "./fleet-data";
import { fleetExitCode, installFleet, type FleetHostResult } from "./install-fleet";
import { fleetHostWork } from "./install-fleet-host";
import { fleetProgress } from "./install-fleet-progress";
import { which } from "../util/which";

export const DEFAULT_PARALLEL = 4;
const MAX_PARALLEL = 64;

/** The flags `fleet install` adds to the fleet command (the SSH ones except --host-key: one key cannot fit many hosts). */
export const FLEET_INSTALL_OPTIONS: Record<string, OptionSpec> = {
  flake: { type: "string", value: "DIR", help: "fleet install: the fleet flake (default: the current folder)" },
  hosts: { type: "string", value: "A,B", help: "fleet install: only these hosts (default: every host)" },
  parallel: { type: "string", value: "N", help: `fleet install: hosts at a time (default ${DEFAULT_PARALLEL})` },
  yes: { type: "boolean", short: "y", help: "fleet install: erase every selected host's disks without typing names" },
  "confirm-timeout": {
    type: "string",
    value: "SEC",
    help: "fleet install: each lockdown stage's confirmation window (default 120)",
  },
  ...Object.fromEntries(Object.entries(SSH_CLI_OPTIONS).filter(([k]) => k !== "host-key")),
};

export function parseParallel(v: unknown): number {
  if (v === undefined) return DEFAULT_PARALLEL;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > MAX_PARALLEL)
    throw badField(
      "--parallel",
      `"${s}" is not a number of hosts (1-${MAX_PARALLEL})`,
      `e.g. --parallel ${DEFAULT_PARALLEL}`,
    );
  return Number(s);
}

export function parseHostList(v: unknown, known: readonly string[]): string[] {
  if (v === undefined) return [...known];
  const names = String(v)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw badField("--hosts", "names no host", `name hosts of the fleet, comma-separated: ${known.join(",")}`);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length)
    throw badField(
      "--hosts",
      `${unknown.map((n) => JSON.stringify(n)).join(", ")} ${unknown.length === 1 ? "is not a host" : "are not hosts"} of this fleet`,
      `name hosts from fleet/fleet.json: ${known.join(", ")}`,
    );
  return [...new Set(names)];
}

/** One question at a time: several hosts are looked at together, and each may ask about its host key. */
function oneAtATime(p: Prompter): Prompter {
  let tail: Promise<unknown> = Promise.resolve();
  const queue = <T>(f: () => Promise<T>): Promise<T> => {
    const run = tail.then(f, f);
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    interactive: p.interactive,
    text: (q) => queue(() => p.text(q)),
    password: (q) => queue(() => p.password(q)),
    confirm: (q) => queue(() => p.confirm(q)),
    select: (q) => queue(() => p.select(q)),
    multiselect: (q) => queue(() => p.multiselect(q)),
  };
}

export function formatFleetTable(results: readonly FleetHostResult[]): string {
  const head = ["HOST", "RESULT", "PINNED HOST KEY", "SSH PORT"];
  const rows = results.map((r) => [
    r.host,
    r.status === "failed" ? "FAILED" : r.message,
    r.fingerprint ?? "-",
    r.sshPort === null ? "-" : String(r.sshPort),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const failures = results
    .filter((r) => r.status === "failed")
    .map((r) => `${r.host}: ${r.message}\n  fix: ${r.fix ?? "see the log"}`);
  return [line(head), ...rows.map(line), ...(failures.length ? ["", ...failures] : [])].join("\n");
}

export async function runFleetInstallCommand(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const flakeDir = resolve(ctx.cwd, typeof o.flake === "string" ? o.flake : ".");
  const parallel = parseParallel(o.parallel);
  if (o["host-key"] !== undefined)
    throw badField(
      "--host-key",
      "one fingerprint cannot pin every host of a fleet",
      "leave it out: each host's key is confirmed at first contact (or --accept-new-host-key), and the new systems' keys are pinned in their host.json",
    );
  const t = o["confirm-timeout"];
  let confirmTimeoutSec: number | null = null;
  if (t !== undefined) {
    if (typeof t !== "string" || !/^\d+$/.test(t) || Number(t) < 5 || Number(t) > 3600)
      throw badField(
        "--confirm-timeout",
        `"${String(t)}" is not a number of seconds (5-3600)`,
        "e.g. --confirm-timeout 120",
      );
    confirmTimeoutSec = Number(t);
  }
  const yes = o.yes === true;
  if (!yes && !ctx.prompter.interactive)
    throw new UserError("--yes: required when nothing can be asked (no terminal, or --json)", {
      field: "--yes",
      hint: "re-run with --yes to confirm erasing every selected host's disks, or run it in a terminal to be asked",
    });
  const data = readFleetData(flakeDir);
  if (!data)
    throw badField(
      "--flake",
      `${flakeDir} has no ${FLEET_DATA}`,
      "point --flake at the folder `nixnode-install fleet plan --out` wrote",
    );
  const hosts = parseHostList(o.hosts, Object.keys(data.hosts));
  // every host.json field, before the first packet
  for (const h of hosts) readHostFileAt(hostFileOf(flakeDir, h));
  const addresses = Object.fromEntries(hosts.map((h) => [h, data.hosts[h]!.address]));
  // every SSH flag is checked now (a bad -i or --known-hosts is exit 2 with nothing contacted)
  for (const h of hosts)
    sshSettingsFromCli(ctx, `root@${addresses[h]!.includes(":") ? `[${addresses[h]}]` : addresses[h]}`);
  const identities = (Array.isArray(o.identity) ? o.identity : typeof o.identity === "string" ? [o.identity] : []).map(
    (p) => resolve(ctx.cwd, p),
  );
  const home = ctx.env.HOME ?? homedir();
  const knownHostsFile =
    typeof o["known-hosts"] === "string" ? resolve(ctx.cwd, o["known-hosts"]) : join(home, ".ssh", "known_hosts");
  let loaded: Promise<AgeIdentity[]> | null = null;
  const prompter = oneAtATime(ctx.prompter);
  const progress = fleetProgress(ctx.out, ctx.log, hosts);
  const work = fleetHostWork({
    ctx: { ...ctx, prompter },
    flakeDir,
    addresses,
    yes,
    identities,
    knownHostsFile,
    operatorPublicKeys: await operatorPublicKeys(ctx.env, identities),
    operatorIdentities: () => (loaded ??= operatorIdentitiesFromCli({ ...ctx, prompter }, identities)),
    which: (n) => which(n, ctx.env),
    outputFor: (h) => progress.outputFor(h),
    logFor: (h) => progress.logFor(h),
    confirmTimeoutSec,
    prompter,
  });
  let results: FleetHostResult[];
  try {
    results = await installFleet(hosts, parallel, {
      ...work,
      onStart: (h, stage) => progress.started(h, stage),
      onEnd: (h, r) => progress.ended(h, r),
    });
  } finally {
    await progress.close();
  }
  const code = fleetExitCode(results);
  ctx.out.result(formatFleetTable(results), { hosts: results, exitCode: code });
  return code;
}
