// Everything the tool tells the operator goes through an Output: human text on a terminal (colour
// unless NO_COLOR or not a TTY), or one NDJSON event per line with --json. Secrets never reach it:
// callers pass redacted values, and the log file redacts again (src/ui/log.ts).
import type { Writable } from "node:stream";

export type EventType =
  | "info" // a line of progress for a human
  | "warn"
  | "step" // a phase or task changed state
  | "result" // the command's final answer (facts, a plan summary, ...)
  | "error";

export interface NixnodeEvent {
  type: EventType;
  /** Milliseconds since the epoch. */
  time: number;
  message?: string;
  phase?: string;
  task?: string;
  status?: "start" | "done" | "skip" | "fail";
  elapsedMs?: number;
  data?: unknown;
  field?: string;
  hint?: string;
  exitCode?: number;
}

export interface Output {
  readonly json: boolean;
  readonly color: boolean;
  readonly interactive: boolean;
  info(message: string, data?: unknown): void;
  warn(message: string, hint?: string): void;
  step(
    phase: string,
    status: NonNullable<NixnodeEvent["status"]>,
    message?: string,
    extra?: Partial<NixnodeEvent>,
  ): void;
  /** The command's final result: printed as text (human) or as a "result" event (json). */
  result(human: string, data: unknown): void;
  error(e: { message: string; field?: string; hint?: string; details?: string[]; exitCode: number }): void;
  /** Raw human text; dropped in json mode. */
  text(s: string): void;
}

export interface OutputOptions {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  json: boolean;
  env: NodeJS.ProcessEnv;
  stdinIsTTY: boolean;
}

const codes = { red: 31, yellow: 33, green: 32, dim: 2, bold: 1, cyan: 36 } as const;
export type Colour = keyof typeof codes;

export function createOutput(o: OutputOptions): Output {
  const color = !o.json && !!o.stdout.isTTY && o.env.NO_COLOR === undefined && o.env.TERM !== "dumb";
  const paint = (c: Colour, s: string) => (color ? `\x1b[${codes[c]}m${s}\x1b[0m` : s);
  const emit = (ev: Omit<NixnodeEvent, "time">) => o.stdout.write(JSON.stringify({ ...ev, time: Date.now() }) + "\n");
  return {
    json: o.json,
    color,
    interactive: !o.json && o.stdinIsTTY && !!o.stdout.isTTY,
    info(message, data) {
      if (o.json) emit({ type: "info", message, data });
      else o.stdout.write(message + "\n");
    },
    warn(message, hint) {
      if (o.json) emit({ type: "warn", message, hint });
      else o.stderr.write(`${paint("yellow", "warning:")} ${message}\n${hint ? `  ${hint}\n` : ""}`);
    },
    step(phase, status, message, extra) {
      if (o.json) emit({ type: "step", phase, status, message, ...extra });
      else if (message) {
        const mark = { start: "›", done: paint("green", "✔"), skip: paint("dim", "↓"), fail: paint("red", "✖") }[
          status
        ];
        const t = extra?.elapsedMs !== undefined ? paint("dim", ` (${(extra.elapsedMs / 1000).toFixed(1)}s)`) : "";
        o.stdout.write(`${mark} ${message}${t}\n`);
      }
    },
    result(human, data) {
      if (o.json) emit({ type: "result", data });
      else o.stdout.write(human.endsWith("\n") ? human : human + "\n");
    },
    error(e) {
      if (o.json) {
        emit({
          type: "error",
          message: e.message,
          field: e.field,
          hint: e.hint,
          exitCode: e.exitCode,
          data: e.details?.length ? { details: e.details } : undefined,
        });
        return;
      }
      const lines = [`${paint("red", "error:")} ${e.message}`];
      for (const d of e.details ?? []) lines.push(`  ${d}`);
      if (e.hint) lines.push(`${paint("cyan", "fix:")} ${e.hint}`);
      o.stderr.write(lines.join("\n") + "\n");
    },
    text(s) {
      if (!o.json) o.stdout.write(s);
    },
  };
}

export function paintFor(out: Output): (c: Colour, s: string) => string {
  return (c, s) => (out.color ? `\x1b[${codes[c]}m${s}\x1b[0m` : s);
}
