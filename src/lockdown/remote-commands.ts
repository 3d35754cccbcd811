// Pure builders for every command the lockdown runs on the target. They are plain POSIX sh for a
// NixOS host (the paths are NixOS's: the system profile, /run/current-system, the switch lock).
// Every value is quoted with the one helper (src/util/shell-quote); the few that are numbers or one
// of a fixed set are checked here too, so a builder never emits a value it did not expect.
export const SYSTEM_PROFILE = "/nix/var/nix/profiles/system";
export const SWITCH_LOCK = "/run/nixos/switch-to-configuration.lock";
/** Runtime state of the supervisors; /run is cleared by a reboot, like the test activation itself. */
export const STATE_ROOT = "/run/nixnode-lockdown";
/** Where the flake is unpacked for the build on the target. */
export const REMOTE_FLAKE_DIR = "/var/lib/nixnode-install/flake";
export const REBOOT_UNIT = "nixnode-lockdown-reboot";

import { InternalError } from "../errors";
import { shellQuote } from "../util/shell-quote";

const STAGES = ["dual-port", "final"] as const;

function stageName(stage: string): string {
  if (!(STAGES as readonly string[]).includes(stage))
    throw new InternalError(`unknown lockdown stage ${JSON.stringify(stage)}`);
  return stage;
}

function whole(n: number, what: string, min: number, max: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max)
    throw new InternalError(`${what} ${JSON.stringify(n)} is not a whole number (${min}-${max})`);
  return n;
}

export function supervisorUnit(stage: string): string {
  return `nixnode-lockdown-${stageName(stage)}`;
}

export function stateDir(stage: string): string {
  return `${STATE_ROOT}/${stageName(stage)}`;
}

/** Prints key=value lines parsed by parsePreflight (preflight.ts). */
export function preflightScript(port: number): string {
  return [
    `echo "ssh_connection=$SSH_CONNECTION"`,
    `echo "os_id=$( (. /etc/os-release && echo "$ID") 2>/dev/null)"`,
    `echo "profile_link=$(readlink ${SYSTEM_PROFILE} 2>/dev/null)"`,
    `echo "profile_toplevel=$(readlink -f ${SYSTEM_PROFILE} 2>/dev/null)"`,
    `echo "current_toplevel=$(readlink -f /run/current-system 2>/dev/null)"`,
    `ss -Htlnp 2>/dev/null | awk '{print "listen=" $4 " " $6}'`,
    // flock -n succeeds only when nobody holds the lock: a left-over file alone is not a lock
    `if [ -e ${SWITCH_LOCK} ]; then if flock -n ${SWITCH_LOCK} true 2>/dev/null; then echo switch_lock=stale-file; else echo switch_lock=held; fi; else echo switch_lock=none; fi`,
    // a supervisor whose last word is final (acknowledged, rolled back) is only exiting: give it up to
    // 10 s to be gone, so the run right after a confirmed one is not refused for a finishing process
    `for d in ${STATE_ROOT}/*/; do [ -f "$d/state" ] || continue; p=$(cat "$d/supervisor.pid" 2>/dev/null); case "$(tail -n 1 "$d/state")" in *" acknowledged"*|*" rolled-back"*|*" rollback-failed"*) i=0; while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done;; esac; done`,
    `for u in nixos-rebuild-switch-to-configuration ${supervisorUnit("dual-port")} ${supervisorUnit("final")}; do echo "unit=$u $(systemctl is-active "$u.service" 2>/dev/null | head -1)"; done`,
    `for d in ${STATE_ROOT}/*/; do [ -f "$d/state" ] || continue; p=$(cat "$d/supervisor.pid" 2>/dev/null); if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then a=alive; else a=dead; fi; echo "supervisor=$(basename "$d") $a $(tail -n 1 "$d/state")"; done`,
    `echo port_checked=${shellQuote(String(whole(port, "port", 1, 65535)))}`,
  ].join("\n");
}

/** Unpacks the flake tarball from stdin into a clean folder. */
export function unpackFlakeCommand(): string {
  return `rm -rf ${REMOTE_FLAKE_DIR} && mkdir -p ${REMOTE_FLAKE_DIR} && tar -x -C ${REMOTE_FLAKE_DIR} -f - && echo unpacked`;
}

/** Builds the host's toplevel and prints its store path (the same command a person would type). */
export function buildCommand(hostname: string): string {
  const ref = `path:${REMOTE_FLAKE_DIR}#nixosConfigurations.${hostname}.config.system.build.toplevel`;
  return `nix --extra-experimental-features 'nix-command flakes' build --no-link --print-out-paths ${shellQuote(ref)}`;
}

export interface SupervisorLaunch {
  stage: string;
  newToplevel: string;
  oldToplevel: string;
  confirmTimeoutSec: number;
  /** The last resort: reboot (back into the boot default) this long after launch. */
  rebootAfterSec: number;
  /** The supervisor script's text, uploaded next to its state. */
  scriptPath: string;
}

/**
 * Starts the reboot timer FIRST (so even a switch that hangs is undone), then the supervisor, both
 * under systemd-run: they belong to systemd, not to this SSH session.
 */
export function launchSupervisorCommand(l: SupervisorLaunch): string {
  const dir = stateDir(l.stage);
  const q = shellQuote;
  return [
    `set -e`,
    `rm -rf ${q(dir)} && mkdir -p ${q(dir)}`,
    `systemctl stop ${REBOOT_UNIT}.timer >/dev/null 2>&1 || true`,
    `systemd-run --quiet --collect --unit=${REBOOT_UNIT} ${q(`--on-active=${whole(l.rebootAfterSec, "reboot delay", 1, 86_400)}s`)} "$(command -v systemctl)" reboot`,
    `systemd-run --quiet --collect --unit=${q(supervisorUnit(l.stage))} /bin/sh ${q(l.scriptPath)} ${q(dir)} ${q(l.newToplevel)} ${q(l.oldToplevel)} ${q(String(whole(l.confirmTimeoutSec, "confirm timeout", 1, 86_400)))}`,
    `echo launched`,
  ].join("\n");
}

export function readStateCommand(stage: string): string {
  return `cat ${shellQuote(stateDir(stage))}/state 2>/dev/null || true`;
}

/** The last lines of the failed switch's output, for the operator's error message. */
export function switchLogCommand(stage: string): string {
  return `tail -n 8 ${shellQuote(`${stateDir(stage)}/switch.log`)} 2>/dev/null`;
}

export function ackCommand(stage: string): string {
  return `touch ${shellQuote(stateDir(stage))}/ack && echo acked`;
}

export function nackCommand(stage: string, reason: string): string {
  return `printf '%s\\n' ${shellQuote(reason)} > ${shellQuote(stateDir(stage))}/nack`;
}

export function cancelRebootCommand(): string {
  return `systemctl stop ${REBOOT_UNIT}.timer ${REBOOT_UNIT}.service >/dev/null 2>&1; systemctl is-active ${REBOOT_UNIT}.timer >/dev/null 2>&1 && echo still-armed || echo cancelled`;
}

/** Makes a confirmed toplevel the boot default and prints the new generation's link name. */
export function persistCommand(toplevel: string): string {
  return `set -e\nnix-env -p ${SYSTEM_PROFILE} --set ${shellQuote(toplevel)}\n${shellQuote(toplevel)}/bin/switch-to-configuration boot\nreadlink ${SYSTEM_PROFILE}`;
}

/** "system-7-link" -> 7 */
export function generationNumber(link: string): number | null {
  const m = /system-(\d+)-link$/.exec(link.trim());
  return m ? Number(m[1]) : null;
}
