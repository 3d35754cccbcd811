// Preflight over the primary session (LOCKDOWN.md step 1): one round trip that reads the current
// generation and toplevel, the operator's address as the target sees it, who listens on the new
// port, and whether a switch (ours or anyone's) is running. Pure parsing and judging here; the
// command itself is preflightScript() in remote-commands.ts.
import { OperationError } from "../errors";
import { isIpv4, isIpv6 } from "../util/ip";
import { generationNumber } from "./remote-commands";

/** The target's answer becomes a fail2ban ignoreIP entry: only a plain address is taken. */
function address(v: string | undefined): string | null {
  return v && (isIpv4(v) || isIpv6(v)) ? v : null;
}

export interface Preflight {
  operatorAddress: string | null;
  osId: string;
  generation: number | null;
  /** The boot default: what a reboot (and our rollback) returns to. */
  bootToplevel: string;
  currentToplevel: string;
  /** Processes listening on the new port, e.g. `users:(("sshd",pid=12,fd=3))`; empty when free. */
  portListeners: string[];
  switchLock: "none" | "stale-file" | "held";
  activeUnits: string[];
  supervisors: Array<{ stage: string; alive: boolean; last: string }>;
}

export function parsePreflight(text: string, port: number): Preflight {
  const p: Preflight = {
    operatorAddress: null,
    osId: "",
    generation: null,
    bootToplevel: "",
    currentToplevel: "",
    portListeners: [],
    switchLock: "none",
    activeUnits: [],
    supervisors: [],
  };
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const v = line.slice(eq + 1).trim();
    if (key === "ssh_connection") p.operatorAddress = address(v.split(/\s+/)[0]);
    else if (key === "os_id") p.osId = v;
    else if (key === "profile_link") p.generation = generationNumber(v);
    else if (key === "profile_toplevel") p.bootToplevel = v;
    else if (key === "current_toplevel") p.currentToplevel = v;
    else if (key === "listen") {
      const [addr = "", users = ""] = v.split(/\s+/, 2);
      if (addr.endsWith(`:${port}`)) p.portListeners.push(users || "(unknown process)");
    } else if (key === "switch_lock" && (v === "none" || v === "stale-file" || v === "held")) p.switchLock = v;
    else if (key === "unit") {
      const [name = "", state = ""] = v.split(/\s+/);
      if (state === "active" || state === "activating") p.activeUnits.push(name);
    } else if (key === "supervisor") {
      const [stage = "", alive = "", ...rest] = v.split(/\s+/);
      p.supervisors.push({ stage, alive: alive === "alive", last: rest.join(" ") });
    }
  }
  return p;
}

/**
 * Refuses (OperationError, nothing changed yet) when the target is not a NixOS system we can roll
 * back, a switch is running, or something other than sshd holds the new port. Returns warnings.
 */
export function judgePreflight(p: Preflight, port: number, opts: { sshAlreadyOnPort: boolean }): string[] {
  const warnings: string[] = [];
  const nothing = "Nothing was changed on the target.";
  if (p.osId !== "nixos" || !p.bootToplevel) {
    throw new OperationError(
      `the target is not a NixOS system with a system profile (os: ${p.osId || "unknown"}). ${nothing}`,
      {
        hint: "lockdown runs after the install; install NixOS first (nixnode-install root@host)",
      },
    );
  }
  if (p.switchLock === "held" || p.activeUnits.length > 0) {
    const what = p.activeUnits.length
      ? `unit ${p.activeUnits.join(", ")} is active`
      : "the switch-to-configuration lock is held";
    throw new OperationError(`another switch-to-configuration is running on the target (${what}). ${nothing}`, {
      hint: "wait until it finishes (systemctl status nixos-rebuild-switch-to-configuration), then run lockdown again",
      details: p.supervisors
        .filter((s) => s.alive)
        .map((s) => `an earlier lockdown supervisor (${s.stage}) is still running: ${s.last}`),
    });
  }
  const live = p.supervisors.filter((s) => s.alive);
  if (live.length) {
    throw new OperationError(
      `an earlier lockdown run is still waiting for its confirmation (${live.map((s) => `${s.stage}: ${s.last}`).join("; ")}). ${nothing}`,
      {
        hint: "it rolls back by itself when its window ends; run lockdown again after that",
      },
    );
  }
  if (p.switchLock === "stale-file")
    warnings.push(
      "a switch-to-configuration lock file exists but nobody holds it (left over from an earlier switch); it does not block us",
    );
  for (const s of p.supervisors)
    if (!s.alive && !/acknowledged|rolled-back/.test(s.last))
      warnings.push(
        `an earlier lockdown supervisor (${s.stage}) stopped without finishing (${s.last}); the boot default is what we return to on failure`,
      );
  if (p.currentToplevel && p.currentToplevel !== p.bootToplevel) {
    warnings.push(
      `the running configuration (${p.currentToplevel}) is not the boot default (${p.bootToplevel}); a failed lockdown returns to the boot default`,
    );
  }
  const others = p.portListeners.filter((l) => !opts.sshAlreadyOnPort || !l.includes('"sshd"'));
  if (others.length) {
    throw new OperationError(`port ${port} is already in use on the target: ${others.join(", ")}. ${nothing}`, {
      field: "--port",
      hint: `choose another port with --port, or stop what listens on ${port}`,
    });
  }
  if (!p.operatorAddress)
    warnings.push(
      "could not read your address from $SSH_CONNECTION; fail2ban will only ignore the addresses you listed",
    );
  return warnings;
}
