// What the node runs now, read from the target in one round trip: the host.json of the last
// confirmed configuration, the active and failed units, and the lockdown preflight (generation,
// toplevels, the operator's address, running switches). Pure builders and parsers.
import { OperationError } from "../errors";
import { parseHostJson } from "../flake/host-file";
import type { HostData } from "../plan/types";
import { parsePreflight, type Preflight } from "../lockdown/preflight";
import { REMOTE_FLAKE_DIR, preflightScript } from "../lockdown/remote-commands";
import { shellQuote } from "../util/shell-quote";

/** The host.json a confirmed switch leaves on the target (the unpacked flake may hold a rolled-back one). */
export const CONFIRMED_HOST_JSON = "/var/lib/nixnode-install/confirmed-host.json";

const MARK = "----nixnode-host-json----";

export function targetStateScript(hostname: string, port: number): string {
  const unpacked = `${REMOTE_FLAKE_DIR}/hosts/${hostname}/host.json`;
  return [
    preflightScript(port),
    `echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"`,
    `systemctl list-units --type=service --state=active --no-legend --plain 2>/dev/null | awk '{print "active=" $1}'`,
    `systemctl list-units --state=failed --no-legend --plain 2>/dev/null | awk '{print "failed=" $1}'`,
    `echo "system_state=$(systemctl is-system-running 2>/dev/null)"`,
    `if [ -f ${CONFIRMED_HOST_JSON} ]; then echo host_json_from=${CONFIRMED_HOST_JSON}; f=${CONFIRMED_HOST_JSON}; ` +
      `elif [ -f ${shellQuote(unpacked)} ]; then echo host_json_from=${shellQuote(unpacked)}; f=${shellQuote(unpacked)}; else f=; fi`,
    `echo ${MARK}; [ -n "$f" ] && cat "$f"`,
  ].join("\n");
}

export interface TargetState {
  preflight: Preflight;
  bootId: string;
  active: string[];
  failed: string[];
  systemState: string;
  host: HostData;
  hostFrom: string;
}

export function parseTargetState(text: string, port: number): TargetState {
  const at = text.indexOf(MARK);
  const head = at < 0 ? text : text.slice(0, at);
  const json = at < 0 ? "" : text.slice(at + MARK.length).trim();
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
  };
}

/** Records the confirmed host.json on the target (over the session that proved it). */
export function recordConfirmedCommand(): string {
  return `mkdir -p /var/lib/nixnode-install && cat > ${CONFIRMED_HOST_JSON}.tmp && mv ${CONFIRMED_HOST_JSON}.tmp ${CONFIRMED_HOST_JSON} && echo recorded`;
}
