// Independent observers for the lockdown tests: plain ssh2 logins (not the tool's own code), so a
// test's verdict on "can the operator still get in" does not depend on what it is testing.
import { readFileSync } from "node:fs";
import { Client } from "ssh2";

export interface LoginAttempt {
  host: string;
  port: number;
  username?: string;
  privateKeyPath?: string;
  password?: string;
  localAddress?: string;
  timeoutMs?: number;
}

export type LoginResult = { ok: true; output: string } | { ok: false; error: string };

/** Logs in with exactly one method and runs `command`; never throws. */
export function tryLogin(a: LoginAttempt, command = "echo logged-in"): Promise<LoginResult> {
  return new Promise((resolve) => {
    const c = new Client();
    let done = false;
    const finish = (r: LoginResult) => {
      if (done) return;
      done = true;
      c.end();
      resolve(r);
    };
    c.on("ready", () => {
      c.exec(command, (err, stream) => {
        if (err) return finish({ ok: false, error: err.message });
        let out = "";
        stream.on("data", (d: Buffer) => (out += d));
        stream.stderr.on("data", () => undefined);
        stream.on("close", () => finish({ ok: true, output: out }));
      });
    });
    c.on("error", (e) =>
      finish({ ok: false, error: `${(e as Error & { level?: string }).level ?? ""} ${e.message}`.trim() }),
    );
    c.on("close", () => finish({ ok: false, error: "connection closed" }));
    c.connect({
      host: a.host,
      port: a.port,
      username: a.username ?? "root",
      readyTimeout: a.timeoutMs ?? 8000,
      localAddress: a.localAddress,
      ...(a.privateKeyPath ? { privateKey: readFileSync(a.privateKeyPath) } : {}),
      ...(a.password !== undefined ? { password: a.password } : {}),
      tryKeyboard: false,
      agent: undefined,
    });
  });
}

/** What the server offers after a 'none' request (spends no failed attempt). */
export function offeredMethods(host: string, port: number, timeoutMs = 8000): Promise<string[] | { error: string }> {
  return new Promise((resolve) => {
    const c = new Client();
    let methods: string[] | null = null;
    let done = false;
    const finish = (r: string[] | { error: string }) => {
      if (done) return;
      done = true;
      c.end();
      resolve(r);
    };
    c.on("error", (e) => finish(methods ?? { error: e.message }));
    c.on("close", () => finish(methods ?? { error: "connection closed" }));
    c.connect({
      host,
      port,
      username: "root",
      readyTimeout: timeoutMs,
      authHandler: (left: string[] | null, _partial: boolean | null, next: (m: unknown) => void) => {
        if (left === null) return next({ type: "none", username: "root" });
        methods = left;
        finish(left);
        return next(false);
      },
    } as never);
  });
}
