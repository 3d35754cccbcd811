// The supervisor appends "<epoch> <event> [detail]" lines to its state file (supervisor.sh). This
// reads them back into what the operator side needs to decide: did the switch finish, when does
// the window close, was the change acknowledged or rolled back, and why.
export type SupervisorPhase =
  | "not-started"
  | "switching"
  | "switch-failed"
  | "waiting"
  | "acknowledged"
  | "rolling-back"
  | "rolled-back"
  | "rollback-failed";

export interface SupervisorState {
  phase: SupervisorPhase;
  /** Epoch seconds when the switch ended (the confirmation window starts). */
  switchedAt: number | null;
  /** Epoch seconds when the supervisor rolls back without an acknowledgement. */
  deadline: number | null;
  /** Exit code of a failed `switch-to-configuration test`. */
  switchExitCode: number | null;
  /** Why it rolled back (or failed to), as the supervisor wrote it. */
  reason: string | null;
}

const TERMINAL: SupervisorPhase[] = ["acknowledged", "rolled-back", "rollback-failed"];

export function isTerminal(s: SupervisorState): boolean {
  return TERMINAL.includes(s.phase);
}

export function parseSupervisorState(text: string): SupervisorState {
  const s: SupervisorState = {
    phase: "not-started",
    switchedAt: null,
    deadline: null,
    switchExitCode: null,
    reason: null,
  };
  for (const line of text.split("\n")) {
    const m = /^(\d+) (\S+) ?(.*)$/.exec(line.trim());
    if (!m) continue;
    const at = Number(m[1]);
    const detail = m[3] ?? "";
    switch (m[2]) {
      case "switching":
        s.phase = "switching";
        break;
      case "switch-failed":
        s.phase = "switch-failed";
        s.switchExitCode = Number(detail) || null;
        break;
      case "switched":
        s.phase = "waiting";
        s.switchedAt = at;
        s.deadline = Number(detail) || null;
        break;
      case "acknowledged":
        s.phase = "acknowledged";
        break;
      case "rolling-back":
        s.phase = "rolling-back";
        s.reason = detail || null;
        break;
      case "rolled-back":
        s.phase = "rolled-back";
        s.reason = detail || s.reason;
        break;
      case "rollback-failed":
        s.phase = "rollback-failed";
        s.reason = detail || s.reason;
        break;
    }
  }
  return s;
}
