// Entry point. argv -> command; the ONE place that turns errors into messages and exit codes.
// Command modules are imported lazily so that `--help` and `--version` load almost nothing.
import { rmdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { CancelledError, InternalError, type NixnodeError, UserError, isNixnodeError } from "../errors";
import { createLog, memoryLog, type Log } from "../ui/log";
import { createOutput, type Output } from "../ui/output";
import { createPrompter, noPrompter } from "../ui/prompter";
import { editDistance } from "../util/fields";
import { checkPathOption, writableDir } from "./local-paths";
import { GLOBAL_OPTIONS, type Command, type OptionSpec } from "./command";
import { COMMANDS, DEFAULT_COMMAND, type CommandName } from "./registry";

declare const __NIXNODE_VERSION__: string;
export const VERSION = typeof __NIXNODE_VERSION__ === "string" ? __NIXNODE_VERSION__ : "0.0.0-dev";

export interface MainIO {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

function topHelp(): string {
  const rows = (Object.keys(COMMANDS) as CommandName[]).map((n) => `  ${n.padEnd(10)} ${COMMANDS[n].summary}`);
  return `nixnode-install ${VERSION}: turn a machine or a VPS into a locked-down NixOS node.

Usage:
  nixnode-install [user@]host[:port] [options]     guided install (same as: install)
  nixnode-install <command> [options]

Commands:
${rows.join("\n")}

Global options:
  -h, --help         help for a command: nixnode-install <command> --help
      --version      print the version
      --json         NDJSON events on stdout instead of text
      --log-dir DIR  where the run log goes

Examples:
  npx nixnode-install root@203.0.113.7
  nixnode-install plan --example hetzner-cloud --out ./my-node
  nixnode-install root@203.0.113.7 --config node.json --yes --json

Exit codes: 0 done, 1 internal error (see the log), 2 bad input (nothing changed),
3 the operation failed safely (what was observed is printed), 130 cancelled.
Colour follows NO_COLOR and whether stdout is a terminal.
`;
}

export function commandHelp(cmd: Command): string {
  const opts = listedOptions(cmd);
  const lines = Object.entries(opts).map(([name, o]: [string, OptionSpec]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`;
    return `  ${flag.padEnd(30)} ${o.help}`;
  });
  return `Usage: ${cmd.usage}\n\n${cmd.summary}\n${cmd.description ? `\n${cmd.description.trim()}\n` : ""}\nOptions:\n${lines.join("\n")}\n`;
}

/** The options --help shows: a hidden one (declared but not supported yet) is refused, not advertised. */
function listedOptions(cmd: Command): Record<string, OptionSpec> {
  return Object.fromEntries(Object.entries({ ...cmd.options, ...GLOBAL_OPTIONS }).filter(([, o]) => !o.hidden));
}

/** `detcet` -> `detect`: the nearest command name, when it is near enough to be a typo. */
export function nearestCommand(word: string): CommandName | null {
  let best: CommandName | null = null;
  let bestDistance = Infinity;
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    const d = editDistance(word.toLowerCase(), name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return bestDistance <= Math.max(1, Math.floor((best?.length ?? 0) / 3)) ? best : null;
}

/**
 * `nixnode-install detcet HOST`: the default command got two positionals and the first is a near
 * miss of a command name. (A lone `mynode` stays a destination: it may be an ssh config alias.)
 */
function unknownCommand(first: string): UserError | null {
  if (!/^[a-z]+$/.test(first) || first in COMMANDS) return null;
  const near = nearestCommand(first);
  if (!near) return null;
  return new UserError(`"${first}" is not a command`, {
    field: "command",
    hint: `did you mean: nixnode-install ${near} ...? (commands: ${Object.keys(COMMANDS).join(", ")}; a host name is given as user@host)`,
  });
}

function parse(cmd: Command, argv: string[]) {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [k, o] of Object.entries({ ...cmd.options, ...GLOBAL_OPTIONS })) {
    options[k] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    if (!String((e as { code?: string }).code ?? "").startsWith("ERR_PARSE_ARGS")) throw e;
    const msg = (e as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1];
    throw new UserError(
      flag ? `${flag}: ${msg.replace(/^Option '[^']+' /, "").replace(/\. To specify.*$/s, "")}` : msg,
      {
        field: flag,
        hint: `see: nixnode-install ${cmd.name} --help`,
      },
    );
  }
}

/** The run log; a --log-dir that cannot hold it is bad input (exit 2), found before anything runs. */
function openLog(logDir: string | undefined, io: MainIO): Log {
  if (logDir === undefined) return createLog();
  const dir = writableDir(logDir, "--log-dir", io);
  try {
    return createLog(dir);
  } catch (e) {
    throw new UserError(`--log-dir: cannot write a log in ${logDir} (${(e as NodeJS.ErrnoException).code ?? e})`, {
      field: "--log-dir",
      hint: "give a folder you can write to, or leave the flag out",
    });
  }
}

/**
 * Bad input changes nothing locally either: the run log (the error on screen says all there is) and
 * its folder, when this run made it and left it empty, are removed again.
 */
function dropLog(log: Log): void {
  if (!log.path) return;
  rmSync(log.path, { force: true });
  try {
    rmdirSync(dirname(log.path)); // only succeeds when empty: other runs' logs stay
  } catch {
    // not empty, or not ours to remove: leave it
  }
}

/** Runs the CLI and returns the exit code. Never calls process.exit itself. */
export async function main(io: MainIO): Promise<number> {
  const argv = io.argv;
  const wantsJson = argv.includes("--json");
  let out: Output = createOutput({
    stdout: io.stdout,
    stderr: io.stderr,
    json: wantsJson,
    env: io.env,
    stdinIsTTY: !!io.stdin.isTTY,
  });
  let log: Log = memoryLog();
  const abort = new AbortController();
  const onSignal = () => abort.abort(new CancelledError("Interrupted."));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    if (argv.length === 0 || (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h")) || argv[0] === "help") {
      const named = argv[0] === "help" ? argv[1] : undefined;
      if (named && named in COMMANDS) {
        const cmd = await COMMANDS[named as CommandName].load();
        out.result(commandHelp(cmd), { command: cmd.name, usage: cmd.usage, options: Object.keys(listedOptions(cmd)) });
      } else if (wantsJson) out.result("", { version: VERSION, commands: Object.keys(COMMANDS) });
      else out.text(topHelp());
      return 0;
    }
    if (argv[0] === "--version" || argv[0] === "-V") {
      out.result(VERSION, { version: VERSION });
      return 0;
    }
    const first = argv[0]!;
    let name: CommandName;
    let rest: string[];
    if (first in COMMANDS) {
      name = first as CommandName;
      rest = argv.slice(1);
    } else if (first.startsWith("-") && first !== "--local") {
      throw new UserError(`${first}: unknown option before a command`, {
        field: first,
        hint: "run nixnode-install --help",
      });
    } else {
      name = DEFAULT_COMMAND;
      rest = argv;
    }
    const cmd = await COMMANDS[name].load();
    const parsed = parse(cmd, rest);
    if (parsed.values.help) {
      out.result(commandHelp(cmd), { command: cmd.name, usage: cmd.usage, options: Object.keys(listedOptions(cmd)) });
      return 0;
    }
    if (cmd.maxArgs !== undefined && parsed.positionals.length > cmd.maxArgs) {
      const typo = name === DEFAULT_COMMAND && rest === argv ? unknownCommand(parsed.positionals[0]!) : null;
      if (typo) throw typo;
      const extra = parsed.positionals[cmd.maxArgs]!;
      throw new UserError(`unexpected argument "${extra}"`, { field: extra, hint: `usage: ${cmd.usage}` });
    }
    for (const [flag, spec] of Object.entries(cmd.options)) {
      const v = parsed.values[flag];
      if (!spec.path || v === undefined || typeof v === "boolean") continue;
      for (const one of Array.isArray(v) ? v : [v]) checkPathOption(spec.path, String(one), `--${flag}`, io);
    }
    const logDir = typeof parsed.values["log-dir"] === "string" ? parsed.values["log-dir"] : undefined;
    log = openLog(logDir, io);
    log.write(`nixnode-install ${VERSION} ${name} (node ${process.version})`);
    const code = await cmd.run({
      args: parsed.positionals,
      options: parsed.values as Record<string, string | boolean | string[] | undefined>,
      out,
      prompter: out.interactive ? createPrompter({ stdin: io.stdin, stdout: io.stdout }) : noPrompter(),
      log,
      env: io.env,
      cwd: io.cwd,
      stdin: io.stdin,
      signal: abort.signal,
    });
    return typeof code === "number" ? code : 0;
  } catch (e) {
    const err: NixnodeError = isNixnodeError(e)
      ? e
      : new InternalError(`internal error: ${(e as Error)?.message ?? String(e)}`, {
          cause: e,
          hint: log.path
            ? `this is a bug; the log has details: ${log.path}`
            : "this is a bug; please report it with the command you ran",
        });
    if (err.kind === "user") dropLog(log);
    else log.write(`error (${err.name}, exit ${err.exitCode}): ${err.message}\n${(e as Error)?.stack ?? ""}`);
    if (err.kind === "internal" && log.path && !err.hint)
      (err as { hint?: string }).hint = `the log has details: ${log.path}`;
    out.error({ message: err.message, field: err.field, hint: err.hint, details: err.details, exitCode: err.exitCode });
    return err.exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

// Run when executed (the bundle's entry), not when imported by tests.
const isEntry = typeof __NIXNODE_VERSION__ === "string";
if (isEntry) {
  main({
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`fatal: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
