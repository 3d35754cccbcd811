// What the node runs now, read from the target in one round trip: the host.json of the last
// confirmed configuration, the active and failed units, and the lockdown preflight (generation,
// toplevels, the operator's address, running switches) and every supervisor's state file (what an
// earlier run left: src/switch/previous-run.ts decides from it). Pure builders and parsers.
import { OperationError } from "../errors";
import { parseHostJson } from "../flake/host-file";
import type { HostData } from "../plan/types";
import { parsePreflight, type Preflight } from "../lockdown/preflight";
import { REMOTE_FLAKE_DIR, STATE_ROOT, preflightScript } from "../lockdown/remote-commands";
import { shellQuote } from "../util/shell-quote";

/** The host.json a confirmed switch leaves on the target (the unpacked flake may hold a rolled-back one). */
export const CONFIRMED_HOST_JSON = "/var/lib/nixnode-install/confirmed-host.json";

const MARK = "----nixnode-host-json----";
/** Printed last: an answer without it was cut off (the session dropped, e.g. the target rebooting). */
const END = "----nixnode-target-state-end----";

export function targetStateScript(hostname: string, port: number): string {
  const unpacked = `${REMOTE_FLAKE_DIR}/hosts/${hostname}/host.json`;
  return [
    preflightScript(port),
    `echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"`,
    `systemctl list-units --type=service --state=active --no-legend --plain 2>/dev/null | awk '{print "active=" $1}'`,
    `systemctl list-units --state=failed --no-legend --plain 2>/dev/null | awk '{print "failed=" $1}'`,
    `echo "system_state=$(systemctl is-system-running 2>/dev/null)"`,
    // the target's clock, so that "time left in the window" never depends on the operator's clock
    `echo "now=$(date +%s)"`,
    `for d in ${STATE_ROOT}/*/; do [ -f "$d/state" ] || continue; s=$(basename "$d"); p=$(cat "$d/supervisor.pid" 2>/dev/null); ` +
      `if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "run=$s alive"; else echo "run=$s dead"; fi; ` +
      `sed "s/^/run_line=$s /" "$d/state"; done`,
    `if [ -f ${CONFIRMED_HOST_JSON} ]; then echo host_json_from=${CONFIRMED_HOST_JSON}; f=${CONFIRMED_HOST_JSON}; ` +
      `elif [ -f ${shellQuote(unpacked)} ]; then echo host_json_from=${shellQuote(unpacked)}; f=${shellQuote(unpacked)}; else f=; fi`,
    `echo ${MARK}; [ -n "$f" ] && cat "$f"`,
    `echo; echo ${END}`,
  ].join("\n");
}

/** What a supervisor left under /run/nixnode-lockdown/<stage>/ (cleared by a reboot). */
export interface SupervisorRecord {
  stage: string;
  alive: boolean;
  /** The state file's text, as supervisor.sh wrote it. */
  state: string;
}

export interface TargetState {
  preflight: Preflight;
  bootId: string;
  active: string[];
  failed: string[];
  systemState: string;
  host: HostData;
  hostFrom: string;
  /** The target's clock (epoch seconds) when it answered; null when it did not say. */
  now: number | null;
  runs: SupervisorRecord[];
}

function supervisorRecords(head: string): SupervisorRecord[] {
  const runs: SupervisorRecord[] = [];
  for (const line of head.split("\n")) {
    const run = /^run=([a-z-]+) (alive|dead)$/.exec(line.trim());
    if (run) runs.push({ stage: run[1]!, alive: run[2] === "alive", state: "" });
    const l = /^run_line=([a-z-]+) (.*)$/.exec(line);
    const rec = l && runs.find((r) => r.stage === l[1]);
    if (rec) rec.state += `${l![2]}\n`;
  }
  return runs;
}

export function parseTargetState(text: string, port: number): TargetState {
  const end = text.lastIndexOf(END);
  if (end < 0)
    throw new OperationError(
      "the answer about what the node runs now was cut off (the connection dropped; the target may be rebooting); nothing was changed",
      { hint: "wait until the node answers again, then run switch again" },
    );
  const at = text.indexOf(MARK);
  const head = at < 0 ? text.slice(0, end) : text.slice(0, at);
  const json = at < 0 ? "" : text.slice(at + MARK.length, end).trim();
  const values = (key: string) =>
    head
      .split("\n")
      .filter((l) => l.startsWith(`${key}=`))
      .map((l) => l.slice(key.length + 1).trim())
      .filter(Boolean);
  const hostFrom = values("host_json_from")[0] ?? "";
  if (!json)
    throw new OperationError("the target has no record of its configuration's host.json; nothing was changed", {
      hint: "run `nixnode-install lockdown` once (it leaves the flake on the target), then switch",
    });
  return {
    preflight: parsePreflight(head, port),
    bootId: values("boot_id")[0] ?? "",
    active: values("active"),
    failed: values("failed"),
    systemState: values("system_state")[0] ?? "",
    host: parseHostJson(json, `${hostFrom} (on the target)`),
    hostFrom,
    now: Number(values("now")[0]) || null,
    runs: supervisorRecords(head),
  };
}

/** Records the confirmed host.json on the target (over the session that proved it). */
export function recordConfirmedCommand(): string {
  return `mkdir -p /var/lib/nixnode-install && cat > ${CONFIRMED_HOST_JSON}.tmp && mv ${CONFIRMED_HOST_JSON}.tmp ${CONFIRMED_HOST_JSON} && echo recorded`;
}
