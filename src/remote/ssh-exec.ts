// One command on one channel of the shared connection: stdin, streamed output, a bounded wait,
// cancellation. Plus the pure command builders (sudo wrapping, atomic upload).
import type { Client, ClientChannel } from "ssh2";
import { CancelledError, OperationError } from "../errors";
import type { RunOptions, RunResult } from "./types";

import { shellQuote } from "../util/shell-quote";

export { shellQuote };

/** Runs `command` as root through sudo without a password prompt (-n: fail instead of asking). */
export function wrapForSudo(command: string): string {
  return `sudo -n sh -c ${shellQuote(command)}`;
}

/** Writes stdin to a temporary file beside `path`, sets the mode, then renames: never a half file. */
export function uploadCommand(path: string, mode: number): string {
  const q = shellQuote(path);
  const dir = shellQuote(path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".");
  const m = (mode & 0o7777).toString(8).padStart(4, "0");
  return `mkdir -p ${dir} && umask 077 && t=$(mktemp ${dir}/.nixnode-upload.XXXXXX) && { cat > "$t" && chmod ${m} "$t" && mv -f "$t" ${q}; } || { rm -f "$t"; exit 1; }`;
}

export function runOnChannel(
  client: Client,
  command: string,
  o: RunOptions,
  where: string,
  channels: Set<ClientChannel>,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CancelledError(`${where}: cancelled before running the command`));
    let stdout = "";
    let stderr = "";
    let code: number | null = null;
    let signal: string | null = null;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let channel: ClientChannel | undefined;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      if (channel) channels.delete(channel);
      if (err) {
        channel?.close();
        reject(err);
      } else resolve({ code, signal, stdout, stderr });
    };
    const onAbort = () => finish(new CancelledError(`${where}: cancelled while a command was running on the server`));
    o.signal?.addEventListener("abort", onAbort, { once: true });
    if (o.timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          finish(
            new OperationError(`${where}: a command did not finish within ${Math.round(o.timeoutMs! / 1000)} s`, {
              hint: "the server may be overloaded or the connection stalled",
            }),
          ),
        o.timeoutMs,
      );
    }
    try {
      client.exec(command, (err, ch) => {
        if (err)
          return finish(new OperationError(`${where}: could not start a command: ${err.message}`, { cause: err }));
        channel = ch;
        channels.add(ch);
        if (done) return ch.close();
        ch.setEncoding("utf8");
        ch.stderr.setEncoding("utf8");
        ch.on("data", (d: string) => {
          stdout += d;
          o.onStdout?.(d);
        });
        ch.stderr.on("data", (d: string) => {
          stderr += d;
          o.onStderr?.(d);
        });
        ch.on("exit", (c: number | null, sig?: string) => {
          if (typeof c === "number") code = c;
          if (sig) signal = sig;
        });
        ch.on("close", () => finish());
        ch.on("error", () => undefined);
        if (o.stdin !== undefined) ch.end(o.stdin);
        else ch.end();
      });
    } catch (e) {
      finish(new OperationError(`${where}: the connection is closed`, { cause: e }));
    }
  });
}
