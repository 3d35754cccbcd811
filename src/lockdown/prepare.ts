// Everything the lockdown checks before its first packet (LOCKDOWN.md step 0), in ONE place and run
// ONCE: the flake's host (every host.json field validated by src/flake/host-file), the new port, the
// pinned host key, --confirm-timeout, --ignore-ip, and that state.json can be read and written back.
// The `lockdown` command calls it before connecting and hands the result to runLockdown; the
// install's last phase and the tests let runLockdown call it.
import { UserError, badField } from "../errors";
import { readStateFile } from "../flake/state-file";
import { parseIgnoreIP } from "../plan/config";
import { port as portField } from "../util/fields";
import { locateFlakeHost, type FlakeHost } from "./flake-files";
import { checkLockdownData } from "./host-stages";

export const DEFAULT_CONFIRM_TIMEOUT_SEC = 120;

export interface LockdownInput {
  flakeDir: string;
  hostname?: string;
  port?: number;
  confirmTimeoutSec?: number;
  extraIgnoreIP?: string[];
  hostKeyFingerprint?: string;
}

export interface PreparedLockdown {
  flake: FlakeHost;
  port: number;
  /** SHA256:... the lockdown talks to, and only to. */
  pinned: string;
  confirmTimeoutSec: number;
  extraIgnoreIP: string[];
}

export function prepareLockdown(i: LockdownInput): PreparedLockdown {
  const flake = locateFlakeHost(i.flakeDir, i.hostname);
  const port = i.port === undefined ? flake.host.lockdown.port : portField(i.port, "--port");
  const confirmTimeoutSec = i.confirmTimeoutSec ?? DEFAULT_CONFIRM_TIMEOUT_SEC;
  if (!Number.isInteger(confirmTimeoutSec) || confirmTimeoutSec < 5 || confirmTimeoutSec > 3600)
    throw badField(
      "--confirm-timeout",
      `${confirmTimeoutSec} is not a number of seconds (5-3600)`,
      "e.g. --confirm-timeout 120",
    );
  const extraIgnoreIP = (i.extraIgnoreIP ?? []).map((a) => parseIgnoreIP(a, "--ignore-ip"));
  const recorded = flake.host.ssh.hostKeyFingerprint;
  if (i.hostKeyFingerprint && recorded && i.hostKeyFingerprint !== recorded)
    throw new UserError(
      `--host-key: ${i.hostKeyFingerprint} differs from the key pinned in ${flake.file} (${recorded})`,
      {
        field: "--host-key",
        hint: "use the flake that belongs to this host, or fix ssh.hostKeyFingerprint if the host key was really replaced",
      },
    );
  const pinned = i.hostKeyFingerprint ?? recorded;
  checkLockdownData({ ...flake.host, ssh: { ...flake.host.ssh, hostKeyFingerprint: pinned } }, port, flake.file);
  // the hand-off writes state.json after the target changed: a broken file must stop us now
  readStateFile(flake.flakeDir);
  return { flake, port, pinned: pinned!, confirmTimeoutSec, extraIgnoreIP };
}
