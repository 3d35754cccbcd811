// A person at the terminal: a private tmux server runs the CLI, tests type with send-keys and read
// the screen with capture-pane. Every wait is bounded and fails with the screen as it was.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TmuxServer {
  /** tmux is installed (tests skip with that reason otherwise). */
  available: boolean;
  tmux(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  screen(session: string): Promise<string>;
  keys(session: string, ...keys: string[]): Promise<unknown>;
  waitFor(session: string, re: RegExp, timeoutMs?: number): Promise<string>;
}

/** A tmux server of this test process only (`-L name-pid`), so parallel files never share one. */
export function tmuxServer(name: string, opts: { scrollback?: number; timeoutMs?: number } = {}): TmuxServer {
  const socket = `${name}-${process.pid}`;
  const tmux = (...args: string[]) => run("tmux", ["-L", socket, ...args]);
  const screen = async (s: string) =>
    (await tmux("capture-pane", "-p", "-J", "-S", `-${opts.scrollback ?? 200}`, "-t", s)).stdout;
  return {
    available: existsSync("/usr/bin/tmux"),
    tmux,
    screen,
    keys: (s, ...k) => tmux("send-keys", "-t", s, ...k),
    async waitFor(s, re, timeoutMs = opts.timeoutMs ?? 60_000) {
      const until = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < until) {
        last = await screen(s);
        if (re.test(last)) return last;
        await sleep(150);
      }
      throw new Error(`timed out waiting for ${re} on the screen:\n${last}`);
    },
  };
}
