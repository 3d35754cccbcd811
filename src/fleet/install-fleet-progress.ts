// What `fleet install` shows while hosts run side by side: on a terminal one listr2 row per host
// with its current phase; otherwise (pipes, CI, --json) plain lines prefixed with the host, or NDJSON
// events whose `host` field names it. Each host's install and lockdown get their own Output from
// here, so the same single-host code reports into its own row.
import { Listr, type ListrTaskWrapper } from "listr2";
import type { NixnodeEvent, Output } from "../ui/output";
import type { Log } from "../ui/log";
import type { FleetHostResult } from "./install-fleet";

interface Row {
  task?: ListrTaskWrapper<unknown, never, never>;
  title: string;
  output: string;
  end?: (r: FleetHostResult) => void;
  ended?: FleetHostResult;
}

export interface FleetProgress {
  outputFor(host: string): Output;
  logFor(host: string): Log;
  ended(host: string, r: FleetHostResult): void;
  /** A host's stage begins; the first install draws the rows (questions come before it). */
  started(host: string, stage: "prepare" | "install"): void;
  /** Waits for the rows to finish rendering, then prints the warnings held back meanwhile. */
  close(): Promise<void>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function fleetProgress(parent: Output, log: Log, hosts: readonly string[]): FleetProgress {
  const useRows = parent.interactive && !parent.json;
  const rows = new Map<string, Row>(hosts.map((h) => [h, { title: `${h}: waiting`, output: "" }]));
  const heldWarnings: Array<[string, string | undefined]> = [];
  let running: Promise<unknown> | null = null;
  // the rows take over the terminal: drawn only once every question was asked (the first install)
  const startRows = () => {
    if (!useRows || running) return;
    const list = new Listr(
      hosts.map((host) => ({
        title: rows.get(host)!.title,
        task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
          const row = rows.get(host)!;
          row.task = task;
          task.title = row.title;
          const r = row.ended ?? (await new Promise<FleetHostResult>((resolve) => (row.end = resolve)));
          if (r.status === "failed") throw new Error(`${host}: ${r.message}`);
          if (r.status === "skipped") task.skip(`${host}: ${r.message}`);
          else task.title = `${host}: ${r.message}`;
        },
      })),
      { concurrent: true, exitOnError: false },
    );
    running = list.run().catch(() => undefined);
  };
  const setRow = (host: string, title: string | null, output: string | null) => {
    const row = rows.get(host);
    if (!row) return;
    if (title !== null) row.title = `${host}: ${title}`;
    if (output !== null) row.output = output;
    if (row.task) {
      row.task.title = row.title;
      if (output !== null) row.task.output = output;
    }
  };

  return {
    started(_host, stage) {
      if (stage === "install") startRows();
    },
    outputFor(host) {
      const tag = `[${host}] `;
      const out: Output = {
        json: parent.json,
        color: parent.color,
        // the single-host code must not draw its own task list inside a row
        interactive: false,
        info(message, data) {
          if (useRows) return setRow(host, null, message);
          if (parent.json)
            parent.info(message, {
              host,
              // data that has its own `host` (the lockdown's result: the address) is kept whole, nested
              ...(isObject(data) && !("host" in data) ? data : data === undefined ? {} : { data }),
            });
          else parent.info(tag + message);
        },
        warn(message, hint) {
          if (useRows) heldWarnings.push([tag + message, hint]);
          else parent.warn(tag + message, hint);
        },
        step(phase, status, message, extra) {
          if (useRows) return setRow(host, `${phase}${message ? ` (${status}): ${message}` : ` ${status}`}`, null);
          const ev = { ...extra, host } as Partial<NixnodeEvent>;
          parent.step(phase, status, message && (parent.json ? message : tag + message), ev);
        },
        result(human, data) {
          out.info(human, data);
        },
        error(e) {
          parent.error({ ...e, message: tag + e.message });
        },
        text(s) {
          if (!useRows) parent.text(s.replace(/^(?=.)/gm, tag));
        },
      };
      return out;
    },
    logFor(host) {
      return {
        get path() {
          return log.path;
        },
        write: (line: string) => log.write(`[${host}] ${line}`),
        addSecret: (s: string) => log.addSecret(s),
      } as Log;
    },
    ended(host, r) {
      const row = rows.get(host);
      if (!row) return;
      row.ended = r;
      row.end?.(r);
      if (!useRows) {
        const ev = { host, result: r.status } as unknown as Partial<NixnodeEvent>;
        parent.step(
          "host",
          r.status === "failed" ? "fail" : r.status === "skipped" ? "skip" : "done",
          `${parent.json ? "" : `[${host}] `}${r.message}`,
          ev,
        );
      }
    },
    async close() {
      for (const [h, row] of rows)
        if (!row.ended)
          this.ended(h, {
            host: h,
            status: "failed",
            fingerprint: null,
            sshPort: null,
            message: "not run",
            fix: null,
            exitCode: null,
          });
      await (running ?? Promise.resolve());
      for (const [m, h] of heldWarnings) parent.warn(m, h);
    },
  };
}
