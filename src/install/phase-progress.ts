// The install's task list: one row per phase (kexec, disko, install, reboot, verify) with elapsed
// times. On a terminal it is a listr2 list; otherwise (pipes, CI, --json) the same transitions are
// plain lines or `step` events through ctx.out, so scripts see exactly what a person sees.
import { Listr, type ListrTaskWrapper } from "listr2";
import type { Output } from "../ui/output";

export interface PhaseProgress {
  start(phase: string, title: string): void;
  /** The current step inside a phase (a nixos-anywhere `###` line); shown, not logged as a step. */
  detail(phase: string, text: string): void;
  done(phase: string, note?: string): void;
  skip(phase: string, reason: string): void;
  fail(phase: string, message: string): void;
  /** Waits for the list to finish rendering. */
  close(): Promise<void>;
}

/** Plain lines or NDJSON `step` events, with elapsed milliseconds on done/fail. */
export function lineProgress(out: Output): PhaseProgress {
  const started = new Map<string, number>();
  const titles = new Map<string, string>();
  const elapsed = (p: string) => Date.now() - (started.get(p) ?? Date.now());
  return {
    start(phase, title) {
      started.set(phase, Date.now());
      titles.set(phase, title);
      out.step(phase, "start", `${title} …`);
    },
    detail(phase, text) {
      if (out.json) out.step(phase, "start", text, { task: text });
      else out.info(`  ${text}`);
    },
    done(phase, note) {
      out.step(phase, "done", `${titles.get(phase) ?? phase}${note ? `: ${note}` : ""}`, { elapsedMs: elapsed(phase) });
    },
    skip(phase, reason) {
      out.step(phase, "skip", `${phase}: ${reason}`);
    },
    fail(phase, message) {
      out.step(phase, "fail", `${titles.get(phase) ?? phase}: ${message}`, { elapsedMs: elapsed(phase) });
    },
    close: async () => undefined,
  };
}

interface Row {
  resolve(v: { skip?: string; note?: string }): void;
  reject(e: Error): void;
  task?: ListrTaskWrapper<unknown, never, never>;
  start: number;
}

/** A listr2 list on a terminal. Phases are known up front; each row waits for the driver's calls. */
export function listrProgress(phases: Array<{ phase: string; title: string }>): PhaseProgress {
  const rows = new Map<string, Row>();
  const ready = new Map<string, Promise<{ skip?: string; note?: string }>>();
  const attached = new Map<string, (t: ListrTaskWrapper<unknown, never, never>) => void>();
  for (const p of phases) {
    ready.set(p.phase, new Promise((resolve, reject) => rows.set(p.phase, { resolve, reject, start: Date.now() })));
  }
  const fmt = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const list = new Listr(
    phases.map((p) => ({
      title: p.title,
      task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
        const row = rows.get(p.phase)!;
        row.task = task;
        row.start = Date.now();
        attached.get(p.phase)?.(task);
        const r = await ready.get(p.phase)!;
        if (r.skip) task.skip(`${p.title}: ${r.skip}`);
        else task.title = `${p.title}${r.note ? `: ${r.note}` : ""} (${fmt(Date.now() - row.start)})`;
      },
    })),
    { concurrent: false, exitOnError: true },
  );
  const running = list.run().catch(() => undefined);
  const title = new Map(phases.map((p) => [p.phase, p.title]));
  return {
    start(phase, t) {
      title.set(phase, t);
    },
    detail(phase, text) {
      const row = rows.get(phase);
      if (row?.task) row.task.output = text;
      else attached.set(phase, (task) => (task.output = text));
    },
    done(phase, note) {
      rows.get(phase)?.resolve({ note });
    },
    skip(phase, reason) {
      rows.get(phase)?.resolve({ skip: reason });
    },
    fail(phase, message) {
      rows.get(phase)?.reject(new Error(`${title.get(phase) ?? phase}: ${message}`));
      for (const [p, r] of rows) if (p !== phase) r.resolve({ skip: "not run" });
    },
    close: async () => {
      for (const r of rows.values()) r.resolve({ skip: "not run" });
      await running;
    },
  };
}
