// The CLI side of `fleet switch`: its flags (checked before any packet, exit 2 naming the flag),
// the operator's SSH settings applied to each host's address and user, and the end table.
import { resolve } from "node:path";
import type { CommandContext, OptionSpec } from "../cli/command";
import { sshSettingsFromCli } from "../cli/target-options";
import { DEFAULT_CONFIRM_TIMEOUT_SEC } from "../lockdown";
import { isIpv6 } from "../util/ip";
import {
  DEFAULT_CANARY,
  DEFAULT_SWITCH_PARALLEL,
  parseCount,
  renderOutcomeTable,
  rolloutSummary,
  runFleetSwitch,
} from "./switch-fleet";

// flake, hosts, parallel and confirm-timeout are shared with `fleet install` (same meaning)
export const FLEET_SWITCH_OPTIONS: Record<string, OptionSpec> = {
  flake: { type: "string", path: "dir-in", value: "DIR", help: "the fleet flake (default: the current folder)" },
  hosts: { type: "string", value: "A,B", help: "only these hosts (default: every host, in inventory order)" },
  canary: {
    type: "string",
    value: "N",
    help: `fleet switch: this many hosts first, one by one, before the rest (default ${DEFAULT_CANARY})`,
  },
  parallel: {
    type: "string",
    value: "N",
    help: `hosts at a time (default ${DEFAULT_SWITCH_PARALLEL}; fleet switch: after the canaries)`,
  },
  "keep-on-failed-checks": {
    type: "boolean",
    help: "fleet switch: keep a host's new configuration when a health.checks check fails (a warning instead of a rollback)",
  },
  "confirm-timeout": {
    type: "string",
    value: "SEC",
    help: `seconds each host waits for the confirmation (default ${DEFAULT_CONFIRM_TIMEOUT_SEC})`,
  },
};

export async function fleetSwitchCommand(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const canary = parseCount(o.canary, "--canary", 0, 1000, "e.g. --canary 1 (0: no canary, all hosts in parallel)");
  const parallel = parseCount(o.parallel, "--parallel", 1, 64, "e.g. --parallel 4");
  const confirmTimeoutSec = parseCount(
    o["confirm-timeout"],
    "--confirm-timeout",
    5,
    3600,
    "e.g. --confirm-timeout 120",
  );
  const flakeDir = resolve(ctx.cwd, typeof o.flake === "string" ? o.flake : ".");
  const report = await runFleetSwitch({
    flakeDir,
    hosts: typeof o.hosts === "string" ? o.hosts : undefined,
    canary,
    parallel,
    confirmTimeoutSec,
    dryRun: o["dry-run"] === true,
    keepOnFailedChecks: o["keep-on-failed-checks"] === true,
    // the operator's keys, known_hosts and ssh config, for the address and user fleet.json names
    sshFor: (address, user) => sshSettingsFromCli(ctx, `${user}@${isIpv6(address) ? `[${address}]` : address}`),
    out: ctx.out,
    log: ctx.log,
    signal: ctx.signal,
  });
  const table = renderOutcomeTable(report.outcomes);
  const summary = rolloutSummary(report.outcomes);
  const head =
    report.exitCode === 0
      ? o["dry-run"] === true
        ? "fleet switch (dry run, nothing was changed):"
        : "fleet switch: every host confirmed the new configuration:"
      : "fleet switch stopped:";
  ctx.out.result([head, table, ...summary].join("\n"), { exitCode: report.exitCode, hosts: report.outcomes });
  return report.exitCode;
}
