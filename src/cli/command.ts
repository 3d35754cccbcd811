// The shape every command module exports. Commands parse nothing by hand: they declare options
// (node:util parseArgs) and get them parsed, with unknown flags rejected as user errors.
import type { Log } from "../ui/log";
import type { Output } from "../ui/output";
import type { Prompter } from "../ui/prompter";
import type { PathUse } from "./local-paths";

export type OptionSpec = {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** One line for --help; the value placeholder goes in `value`. */
  help: string;
  value?: string;
  /** Parsed (so it can be refused with a reason) but not listed by --help until it works. */
  hidden?: boolean;
  /**
   * The value is a path used this way: main.ts checks it before the command runs (file vs folder,
   * dangling symlink, permission, /proc), so a filesystem mistake is exit 2 with nothing done.
   */
  path?: PathUse;
};

export interface CommandContext {
  /** Positional arguments after the command name. */
  args: string[];
  /** Parsed options: string | boolean | string[] as declared. */
  options: Record<string, string | boolean | string[] | undefined>;
  /** The one output channel: every line for the operator (text or NDJSON) goes through it. */
  out: Output;
  /** The one way to ask the operator (same terminal as `out`); `prompter.interactive` is false without one. */
  prompter: Prompter;
  log: Log;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: NodeJS.ReadStream;
  /** Aborted on SIGINT/SIGTERM: long operations must stop and explain the target's state. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Longer text for --help: what it does, what it changes, examples. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Maximum number of positionals; more is a user error. */
  maxArgs?: number;
  run(ctx: CommandContext): Promise<number | void>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", help: "show help for this command" },
  json: { type: "boolean", help: "print NDJSON events instead of text (one JSON object per line)" },
  "log-dir": { type: "string", value: "DIR", help: "where the run log goes (default: $TMPDIR/nixnode-install)" },
};
