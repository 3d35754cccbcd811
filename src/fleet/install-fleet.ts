// `fleet install`'s scheduler: every selected host is looked at first (N at a time), every question
// is asked once all are known, then the hosts are installed N at a time. A host that fails is
// reported and never stops, delays or changes another: each host's work runs in its own promise
// and writes only its own files (hosts/<host>/, keys/<host>/, its state entry). The per-host work
// itself (the single-host install and lockdown, called in-process) is src/fleet/install-fleet-host.ts.

export type FleetHostStatus = "installed" | "skipped" | "failed";

export interface FleetHostResult {
  host: string;
  status: FleetHostStatus;
  /** The pinned host key (SHA256:...), when known. */
  fingerprint: string | null;
  /** The port SSH answers on now, when known. */
  sshPort: number | null;
  /** What happened (failed: the error), one line. */
  message: string;
  /** For a failure: what to do. */
  fix: string | null;
  /** For a failure: the error's exit code (2 bad input, 3 operation failed). */
  exitCode: number | null;
}

/** What happens to one host; the runner only schedules. */
export interface FleetHostWork<P> {
  /** Look at the host (no change on it): throws when it cannot be installed; `done` skips it. */
  prepare(host: string): Promise<P>;
  /** A prepared host that needs nothing more (already installed and locked down). */
  done(p: P): FleetHostResult | null;
  /** Every question, for every host that will run, before the first one starts; throws to refuse. */
  confirm(hosts: Array<{ host: string; prepared: P }>): Promise<void>;
  install(host: string, p: P): Promise<FleetHostResult>;
  /** A failure as a row of the table. */
  failed(host: string, e: unknown): FleetHostResult;
  /** Runs after each host ended (any result), one at a time: shared bookkeeping (git staging). */
  after?(host: string, r: FleetHostResult): Promise<void>;
  /** Called before prepare/install of a host starts, for progress. */
  onStart?(host: string, stage: "prepare" | "install"): void;
  onEnd?(host: string, r: FleetHostResult): void;
}

/**
 * Runs `fn` on every item, at most `limit` at a time, in order of the list; never rejects (a
 * failing item is `fn`'s to record) and resolves when all have ended.
 */
export async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch {
        // fn records its own failures; a throw here must not end the worker (and its queue)
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** One serial lane: tasks run one after another even when enqueued concurrently. */
function serial(): (task: () => Promise<void>) => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  return (task) => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

export async function installFleet<P>(
  hosts: readonly string[],
  parallel: number,
  work: FleetHostWork<P>,
): Promise<FleetHostResult[]> {
  const results = new Map<string, FleetHostResult>();
  const prepared = new Map<string, P>();
  const lane = serial();
  const finish = async (host: string, r: FleetHostResult) => {
    results.set(host, r);
    work.onEnd?.(host, r);
    if (work.after) await lane(() => work.after!(host, r)).catch(() => undefined);
  };

  await runLimited(hosts, parallel, async (host) => {
    work.onStart?.(host, "prepare");
    try {
      const p = await work.prepare(host);
      const done = work.done(p);
      if (done) await finish(host, done);
      else prepared.set(host, p);
    } catch (e) {
      await finish(host, work.failed(host, e));
    }
  });

  const toRun = hosts.filter((h) => prepared.has(h));
  // a refusal here (a declined confirmation) ends the run before any host changed
  await work.confirm(toRun.map((host) => ({ host, prepared: prepared.get(host)! })));

  await runLimited(toRun, parallel, async (host) => {
    work.onStart?.(host, "install");
    let r: FleetHostResult;
    try {
      r = await work.install(host, prepared.get(host)!);
    } catch (e) {
      r = work.failed(host, e);
    }
    await finish(host, r);
  });
  return hosts.map((h) => results.get(h)!);
}

/** The exit code of the whole run: 0 only when every host is installed (or already was). */
export function fleetExitCode(results: readonly FleetHostResult[]): number {
  return results.every((r) => r.status !== "failed") ? 0 : 3;
}
