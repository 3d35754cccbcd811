// Runs the CLI's main() in this process (from the TypeScript sources) and captures what it prints,
// with the same result shape as runCli. Used where a child process adds nothing; the kill-and-resume
// test uses the built CLI (runCli) because it needs a process to kill.
import { PassThrough, Writable } from "node:stream";
import { main } from "../../../src/cli/main";
import type { CliResult } from "../../helpers/cli";

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string };
  w.text = "";
  return w;
}

export async function runInProcess(
  args: string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<CliResult> {
  const stdout = sink();
  const stderr = sink();
  const stdin = new PassThrough();
  stdin.end();
  const code = await main({
    argv: args,
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    cwd: opts.cwd,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
  });
  const events = args.includes("--json")
    ? stdout.text
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
  return { code, stdout: stdout.text, stderr: stderr.text, events };
}
