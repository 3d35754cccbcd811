// Step: run the phases with the chosen engine. The task list and state.json follow each phase as it
// starts and ends; a second session (opened before anything changes, closed when kexec starts)
// gathers diagnostics when the run fails before kexec; a failure says what the target looks like now.
import { CancelledError, OperationError, UserError, isNixnodeError, type NixnodeError } from "../../errors";
import { runBuiltinEngine } from "../engine-builtin";
import type { NixosAnywhereFailure } from "../engine-nixos-anywhere";
import { openFallbackSession } from "../fallback-session";
import { PHASE_TITLES } from "../finish-install";
import { writeInstallState } from "../install-state";
import { lineProgress, listrProgress } from "../phase-progress";
import { targetStateDuring, type InstallPhase } from "../phases";
import { runNixosAnywhereEngine } from "../run-nixos-anywhere";
import type { InstallContext } from "../types";

type EngineContext = Pick<
  InstallContext,
  | "session"
  | "engineName"
  | "runPhases"
  | "flake"
  | "facts"
  | "state"
  | "staged"
  | "presented"
  | "presentedKey"
  | "destination"
  | "connect"
  | "probeHostKey"
  | "out"
  | "log"
  | "signal"
  | "env"
  | "which"
  | "identityFile"
  | "password"
  | "kexecSha256"
>;

export async function runEngine(ctx: EngineContext): Promise<Pick<InstallContext, "session" | "progress" | "state">> {
  const { flake, runPhases: phases, log } = ctx;
  let state = ctx.state;
  if (ctx.engineName === "nixos-anywhere")
    ctx.out.info(`Running nixos-anywhere; its full output goes to ${log.path ?? "the run log"}`);
  else
    ctx.out.info(
      `Installing without local Nix (the target downloads the NixOS installer and builds itself); details go to ${log.path ?? "the run log"}`,
    );
  let primary = ctx.session;
  try {
    const fallback = phases.includes("kexec")
      ? await openFallbackSession(() => ctx.connect({ purpose: "fallback" }), log)
      : null;
    const progress = ctx.out.interactive
      ? listrProgress([...phases, "verify"].map((p) => ({ phase: p, title: PHASE_TITLES[p as InstallPhase] })))
      : lineProgress(ctx.out);
    let running: InstallPhase | null = null;
    const finishPhase = () => {
      if (!running) return;
      progress.done(running);
      state = { ...state, phasesDone: [...new Set([...state.phasesDone, running])], phaseRunning: null };
      writeInstallState(flake.dir, state);
      running = null;
    };
    const enterPhase = (p: InstallPhase) => {
      finishPhase();
      running = p;
      state = { ...state, phaseRunning: p };
      writeInstallState(flake.dir, state);
      progress.start(p, PHASE_TITLES[p]);
      if (p !== "kexec") void fallback?.close();
    };
    const onStep = (s: string) => {
      if (running) progress.detail(running, s);
    };
    try {
      const session = primary!;
      primary = null;
      if (ctx.engineName === "nixos-anywhere") {
        await session.close();
        await runNixosAnywhereEngine(ctx, enterPhase, onStep);
      } else {
        await runBuiltinEngine({
          session,
          inInstaller: ctx.facts.os.isNixosInstaller,
          connectInstaller: (fp) => ctx.connect({ purpose: "installer", pinnedHostKey: fp }),
          destination: ctx.destination,
          flakeDir: flake.dir,
          hostName: flake.hostName,
          facts: ctx.facts,
          release: flake.host.stateVersion,
          extraFilesDir: ctx.staged?.extraFilesDir ?? "",
          phases,
          currentHostKey: ctx.presented ?? "",
          log,
          signal: ctx.signal,
          onPhase: enterPhase,
          onStep,
          beforeKexec: async () => fallback?.close(),
          probeHostKey: ctx.probeHostKey,
          kexecSha256: ctx.kexecSha256,
          env: ctx.env,
          warn: (m) => ctx.out.warn(m),
        });
      }
      finishPhase();
    } catch (e) {
      const failure = e as Partial<NixosAnywhereFailure> & Error;
      const err: NixnodeError =
        failure.error ?? (isNixnodeError(e) ? e : new OperationError((e as Error).message, { cause: e }));
      const phase = (failure.error ? failure.phase : null) ?? running;
      if (phase) progress.fail(phase, err.message);
      await progress.close();
      writeInstallState(flake.dir, { ...state, phaseRunning: phase });
      const diag = fallback && (phase === null || phase === "kexec") ? await fallback.diagnostics() : [];
      await fallback?.close();
      throw explainFailure(err, phase, diag, log.path);
    }
    await fallback?.close();
    return { session: null, progress, state };
  } finally {
    ctx.staged?.temp.cleanup();
    if (primary) await primary.close().catch(() => undefined);
  }
}

/** The error as the operator sees it: what the target looks like now, diagnostics, the log, and how to go on. */
export function explainFailure(
  err: NixnodeError,
  phase: InstallPhase | null,
  diagnostics: string[],
  logPath: string | null | undefined,
): NixnodeError {
  const where = targetStateDuring(phase ?? "before");
  const details = [...err.details, where, ...diagnostics, ...(logPath ? [`Full log: ${logPath}`] : [])];
  const hint =
    err.hint ??
    (phase
      ? "fix the cause above, then run the same command again: it resumes where it stopped"
      : "fix the cause above and run the same command again");
  if (err instanceof CancelledError)
    return new CancelledError(`Interrupted${phase ? ` during ${phase}` : ""}.`, {
      details,
      hint: "run the same command again to resume",
    });
  if (err instanceof UserError) return new UserError(err.message, { field: err.field, details, hint });
  return new OperationError(err.message, { details, hint, cause: err });
}
