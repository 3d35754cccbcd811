// The install phase, start to finish: connect, detect, plan, re-check, pin a new host key, confirm
// the erase, keep a fallback session, run an engine, wait for the pinned key, verify, trust it,
// hand over to lockdown. Progress is written to .nixnode/state.json so a re-run resumes:
// a target already in the installer skips kexec; one already running the planned system with the
// pinned key skips straight to verification and lockdown.
import { stageInFlakeGit } from "../generate/write-flake";
import { CancelledError, OperationError, UserError, isNixnodeError, type NixnodeError } from "../errors";
import { formatVerdict, preflight } from "../detect/preflight";
import { describeErasure } from "./erase-summary";
import { runBuiltinEngine } from "./engine-builtin";
import type { NixosAnywhereFailure } from "./engine-nixos-anywhere";
import { runEngine1 } from "./run-engine1";
import { finishAndVerify, PHASE_TITLES } from "./finish-install";
import { openFallbackSession } from "./fallback-session";
import { prepareHostKey, refuseWithoutOperatorKey, type StagedHostKey } from "./flake-host";
import { freshInstallState, readInstallState, writeInstallState, type InstallState } from "./install-state";
import { lineProgress, listrProgress } from "./phase-progress";
import { INSTALL_PHASES, remainingPhases, targetStateDuring, type InstallPhase } from "./phases";
import type { FlakeInfo, InstallDeps, InstallOutcome, InstallSession } from "./types";

export function destinationLabel(d: InstallDeps["destination"]): string {
  return `${d.user}@${d.host.includes(":") ? `[${d.host}]` : d.host}:${d.port}`;
}

export async function runInstall(deps: InstallDeps): Promise<InstallOutcome> {
  const warnings: string[] = [];
  // A target that already runs the installed system presents the pinned key, which known_hosts
  // does not have yet: look first (a handshake, no login), then connect accepting only that key.
  const now = await deps.probeHostKey(deps.destination.host, deps.destination.port, 10_000);
  const pinnedGuess = now.kind === "key" && now.fingerprint === deps.knownPinnedHostKey ? now.fingerprint : undefined;
  let primary: InstallSession | null = await deps.connect({ purpose: "primary", pinnedHostKey: pinnedGuess });
  // ssh config aliases resolve inside connect: waits and probes use where the connection went
  const d: InstallDeps = {
    ...deps,
    destination: {
      ...deps.destination,
      host: primary.host ?? deps.destination.host,
      port: primary.port ?? deps.destination.port,
    },
  };
  const label = destinationLabel(d.destination);
  const presented = primary.hostKeyFingerprint ?? (now.kind === "key" ? now.fingerprint : null);

  let flake: FlakeInfo | null = null;
  try {
    const facts = await d.detect(primary);
    flake = await d.obtainFlake(facts);
    const prior = readInstallState(flake.dir);
    let state: Omit<InstallState, "updatedAt"> = prior && prior.target === label ? prior : freshInstallState(label);
    const pinnedBefore = flake.host.ssh.hostKeyFingerprint;

    // Resume: already the planned system with the pinned key -> verify, then lockdown.
    if (pinnedBefore && presented === pinnedBefore && facts.os.isNixos && !facts.os.isNixosInstaller) {
      d.out.info(
        `${label} already runs the installed system with the pinned host key ${pinnedBefore}: skipping to verification.`,
      );
      const progress = lineProgress(d.out);
      const s = primary;
      primary = null;
      await finishAndVerify(d, { session: s, flake, state, progress, warnings });
      return done(d, flake, state, warnings, "installed system");
    }

    const inInstaller = facts.os.isNixosInstaller;
    let phases = d.phases ?? remainingPhases(state.phasesDone);
    if (inInstaller) phases = phases.filter((p) => p !== "kexec");
    else if (!d.phases && state.phasesDone.includes("kexec")) {
      // kexec lives in RAM: a target back in its old OS lost it; start over.
      d.out.warn(
        `${label} runs ${facts.os.prettyName ?? "its previous OS"} again although kexec had finished: starting the install over.`,
      );
      phases = [...INSTALL_PHASES];
      state = { ...state, phasesDone: [] };
    }
    if (phases.length === 0) phases = ["reboot"];
    const resumedFrom =
      prior && prior.target === label && (prior.phasesDone.length || inInstaller)
        ? `after ${prior.phasesDone.join(", ") || "kexec"}`
        : inInstaller
          ? "in the installer"
          : null;
    if (resumedFrom) d.out.info(`Resuming the install of ${label} ${resumedFrom}: phases ${phases.join(", ")}.`);

    // Before anything destructive: the preflight again, and an operator key that will get in.
    const verdict = preflight(facts);
    if (!verdict.ok) {
      throw new UserError(`${label} cannot be installed: the preflight refused it`, {
        field: "target",
        details: formatVerdict(verdict),
        hint: verdict.checks.find((c) => c.status === "fail")?.fix ?? "see the checks above",
      });
    }
    refuseWithoutOperatorKey(flake.host, d.operatorPublicKeys, flake.hostName);

    const engine = pickEngine(d);
    if (phases.includes("disko")) {
      const lines = flake.plan
        ? describeErasure(facts, flake.plan.disk)
        : ["Every disk in hosts/" + flake.hostName + "/disk-config.nix will be ERASED."];
      await d.confirmErase(lines, flake.hostName);
    }

    // The new system's identity: generated here, pinned, staged as extra files (removed at the end).
    let staged: StagedHostKey | null = null;
    const needsKey = phases.includes("install");
    if (needsKey) {
      const prepared = await prepareHostKey(flake.dir, flake.hostName, flake.host, d.operatorIdentities);
      staged = prepared.staged;
      await stageInFlakeGit(flake.dir, ["secrets", "keys", `hosts/${flake.hostName}`], (m, h) => d.out.warn(m, h));
      if (staged.reused)
        d.out.info(`Keeping the node's host key from secrets/host-key.age (${staged.key.fingerprint}).`);
      flake = { ...flake, host: prepared.host };
      d.log.addSecret(staged.key.privateKey);
      if (!staged.storedEncrypted)
        warnings.push(
          "the host key could not be stored encrypted in the flake (no ssh-ed25519/ssh-rsa operator key): a reinstall will get a new fingerprint",
        );
    }
    const pinned = flake.host.ssh.hostKeyFingerprint;
    if (!pinned)
      throw new UserError(
        `hosts/${flake.hostName}/host.json has no ssh.hostKeyFingerprint and the install phase is not selected`,
        { field: "--phases", hint: "include the install phase so that a host key is generated and pinned" },
      );
    state = {
      ...state,
      engine,
      pinnedHostKey: pinned,
      previousHostKey: state.previousHostKey ?? presented,
      bootIdBefore: state.bootIdBefore ?? facts.bootId,
    };
    writeInstallState(flake.dir, state);
    d.out.info(`New host key for ${flake.hostName}: ${pinned} (pinned in hosts/${flake.hostName}/host.json)`);

    if (engine === "nixos-anywhere")
      d.out.info(`Running nixos-anywhere; its full output goes to ${d.log.path ?? "the run log"}`);
    else
      d.out.info(
        `Installing without local Nix (the target downloads the NixOS installer and builds itself); details go to ${d.log.path ?? "the run log"}`,
      );
    const fallback = phases.includes("kexec")
      ? await openFallbackSession(() => d.connect({ purpose: "fallback" }), d.log)
      : null;
    const progress = d.out.interactive
      ? listrProgress([...phases, "verify"].map((p) => ({ phase: p, title: PHASE_TITLES[p as InstallPhase] })))
      : lineProgress(d.out);
    let running: InstallPhase | null = null;
    const finishPhase = () => {
      if (!running) return;
      progress.done(running);
      state = { ...state, phasesDone: [...new Set([...state.phasesDone, running])], phaseRunning: null };
      writeInstallState(flake!.dir, state);
      running = null;
    };
    const enterPhase = (p: InstallPhase) => {
      finishPhase();
      running = p;
      state = { ...state, phaseRunning: p };
      writeInstallState(flake!.dir, state);
      progress.start(p, PHASE_TITLES[p]);
      if (p !== "kexec") void fallback?.close();
    };
    try {
      if (engine === "nixos-anywhere") {
        await primary.close();
        primary = null;
        await runEngine1(d, flake, facts, staged, phases, enterPhase, progress, () => running);
      } else {
        const s = primary;
        primary = null;
        await runBuiltinEngine({
          session: s,
          inInstaller,
          connectInstaller: (fp) => d.connect({ purpose: "installer", pinnedHostKey: fp }),
          destination: d.destination,
          flakeDir: flake.dir,
          hostName: flake.hostName,
          facts,
          release: flake.host.stateVersion,
          extraFilesDir: staged?.extraFilesDir ?? "",
          phases,
          currentHostKey: presented ?? "",
          log: d.log,
          signal: d.signal,
          onPhase: enterPhase,
          onStep: (s2) => running && progress.detail(running, s2),
          beforeKexec: async () => fallback?.close(),
          probeHostKey: d.probeHostKey,
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
      throw explain(err, phase, diag, d);
    } finally {
      staged?.temp.cleanup();
    }
    await fallback?.close();
    await finishAndVerify(d, { session: null, flake, state, progress, warnings });
    return done(d, flake, readInstallState(flake.dir) ?? state, warnings, resumedFrom);
  } finally {
    if (primary) await primary.close().catch(() => undefined);
  }
}

function pickEngine(d: InstallDeps): "nixos-anywhere" | "builtin" {
  if (d.engine === "builtin") return "builtin";
  const na = d.which("nixos-anywhere");
  if (d.engine === "nixos-anywhere" && !na) {
    throw new UserError("--engine nixos-anywhere: nixos-anywhere is not on PATH", {
      field: "--engine",
      hint: "install it (nix profile install github:nix-community/nixos-anywhere), or use --engine builtin",
    });
  }
  return na ? "nixos-anywhere" : "builtin";
}

function explain(err: NixnodeError, phase: InstallPhase | null, diagnostics: string[], d: InstallDeps): NixnodeError {
  const where = targetStateDuring(phase ?? "before");
  const details = [...err.details, where, ...diagnostics, ...(d.log.path ? [`Full log: ${d.log.path}`] : [])];
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

function done(
  d: InstallDeps,
  flake: FlakeInfo,
  state: Omit<InstallState, "updatedAt">,
  warnings: string[],
  resumedFrom: string | null,
): InstallOutcome {
  for (const w of warnings) d.out.warn(w);
  return {
    hostName: flake.hostName,
    flakeDir: flake.dir,
    fingerprint: state.pinnedHostKey ?? flake.host.ssh.hostKeyFingerprint ?? "",
    knownHostsFile: null,
    warnings,
    resumedFrom,
  };
}
