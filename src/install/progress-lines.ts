// nixos-anywhere prints `### <step> ###` lines (its `step` helper). This maps them to the install
// phases so that the task list can show which phase runs; anything else is log-only. Pure.
import type { InstallPhase } from "./phases";

export interface ProgressStep {
  step: string;
  /** The phase this step belongs to; null for steps before kexec (key upload, facts). */
  phase: InstallPhase | null;
}

const STEP_PHASES: Array<[RegExp, InstallPhase | null]> = [
  [/^Uploading install SSH keys/i, null],
  [/^Gathering machine facts/i, null],
  [/^Switching system into kexec/i, "kexec"],
  [/^Generating (facter\.json|hardware-configuration)/i, "disko"],
  [/^Building disko script/i, "disko"],
  [/^Uploading .* to /i, "disko"],
  [/^Formatting hard drive/i, "disko"],
  [/^Building the system closure/i, "install"],
  [/^Uploading the system closure/i, "install"],
  [/^Copying extra files/i, "install"],
  [/^Installing NixOS/i, "install"],
  [/^Rebooting/i, "reboot"],
  [/^Waiting for the machine to become unreachable/i, "reboot"],
];

/** `### Installing NixOS ###` -> { step: "Installing NixOS", phase: "install" }; other lines -> null. */
export function parseProgressLine(line: string): ProgressStep | null {
  const m = /^### (.+?) ###\s*$/.exec(line.trim());
  if (!m) return null;
  const step = m[1]!;
  for (const [re, phase] of STEP_PHASES) if (re.test(step)) return { step, phase };
  return { step, phase: null };
}

/** "aborted: <reason>" on stderr is how nixos-anywhere reports its own refusals. */
export function parseAbortLine(line: string): string | null {
  const m = /^aborted: (.*)$/.exec(line.trim());
  return m ? m[1]! : null;
}
