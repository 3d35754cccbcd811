// One guarded switch (issue 13): read what the node runs now, refuse what would lock the operator
// out, build the new system (one build for the summary's unit list and the activation), say what
// changes in words, then run the stages (one, or two for a changed static address) through
// runGuardedStages, the machinery the lockdown uses too: confirmed over NEW connections to where the
// NEW configuration says the node answers. The target's confirmed host.json and known_hosts change
// only after confirmation.
import { OperationError, UserError } from "../errors";
import { stagedTarball, tarFlake, type FlakeHost } from "../lockdown/flake-files";
import { judgePreflight } from "../lockdown/preflight";
import { healthWindowWarning } from "./health";
import { buildCommand, launchSupervisorCommand, unpackFlakeCommand, STATE_ROOT } from "../lockdown/remote-commands";
import { buildOnTarget, type StageOutcome } from "../lockdown/supervised-stage";
import type { LockdownConnector, RemoteSession, StageTiming } from "../lockdown/types";
import type { HostData } from "../plan/types";
import type { Log } from "../ui/log";
import type { Output } from "../ui/output";
import { planAddressChange } from "./address-stages";
import { buildAndCopyLocally, pinnedKeyLine } from "./build-local";
import { describeLocalBuild, type BuildLocation } from "./build-location";
import { summarizeChanges, type ChangeSummary } from "./change-summary";
import { runGuardedStages, type GuardedStage, type HealthCheck } from "./guarded-switch";
import { settlePreviousRun } from "./previous-run";
import { CONFIRMED_HOST_JSON, parseTargetState, recordConfirmedCommand, targetStateScript } from "./target-state";
import { parseUnitLists, unitListsCommand } from "./unit-lists";

export interface SwitchDeps {
  primary: RemoteSession;
  currentPort: number;
  connector: LockdownConnector;
  flake: FlakeHost;
  pinned: string;
  /** The keys this run logs in with: the public line (the .pub file) and the private key file. */
  operatorKeys: Array<{ publicKey: string; privatePath: string }>;
  /** A NEW login with exactly this private key on `port`: proves another key really works. */
  proveKeyLogin(privatePath: string, port: number): Promise<boolean>;
  confirmTimeoutSec: number;
  dryRun: boolean;
  knownHostsFile: string | null;
  out: Output;
  log: Log;
  signal?: AbortSignal;
  rebootAfterSec?: number;
  /** Health beyond SSH (src/switch/health.ts): over the confirmation session, before the ack. */
  healthCheck?: HealthCheck;
  /** The part of the confirmation window kept for the health check (default 40% of it). */
  healthBudgetMs?: number;
  /** Where the new system is built (default: on the target); local = build here, nix copy, activate. */
  build?: { location: BuildLocation; identityFile?: string; env?: NodeJS.ProcessEnv };
}

export interface SwitchResult {
  host: string;
  port: number;
  summary: ChangeSummary;
  dryRun: boolean;
  generation: number | null;
  timing: StageTiming | null;
  failedBefore: string[];
  warnings: string[];
  /** Where the new system was (or, in a dry run, would be) built, and why. */
  build?: BuildLocation;
}

const keyBody = (l: string) => l.trim().split(/\s+/).slice(0, 2).join(" ");

export async function runSwitch(d: SwitchDeps): Promise<SwitchResult> {
  const progress = (m: string) => d.out.step("switch", "start", m);
  const log = (l: string) => d.log.write(`switch: ${l}`);
  const next = d.flake.host;
  const guessPort = next.ssh.ports[0] ?? d.currentPort;
  progress("reading what the node runs now");
  const r = await d.primary.run(targetStateScript(d.flake.hostname, guessPort), { timeoutMs: 30_000 });
  const state = parseTargetState(r.stdout, guessPort);
  const resumed = await settlePreviousRun(state, d); // issue 13: refuse, report or finish an earlier run
  if (resumed) return resumed;
  // the key in use: one of ours that the node authorises now
  const oldBodies = state.host.ssh.authorizedKeys.map(keyBody);
  const newBodies = next.ssh.authorizedKeys.map(keyBody);
  const ours = d.operatorKeys.filter((k) => oldBodies.includes(keyBody(k.publicKey)));
  const kept = ours.filter((k) => newBodies.includes(keyBody(k.publicKey)));
  let otherKeyProven = false;
  if (ours.length && ours.length !== kept.length) {
    // a key we log in with goes: another one that stays must log in for real, now
    for (const k of kept) {
      if (await d.proveKeyLogin(k.privatePath, d.currentPort)) {
        otherKeyProven = true;
        d.out.info(`a new login with ${k.privatePath} (kept in ssh.authorizedKeys) works`);
        break;
      }
    }
  }
  const removedInUse = ours.find((k) => !newBodies.includes(keyBody(k.publicKey)));
  const switchCtx = {
    operatorPort: d.currentPort,
    operatorKey: removedInUse?.publicKey ?? ours[0]?.publicKey ?? null,
    otherKeyProven,
  };
  // refusals need only the data: nothing is built or changed on the target before they pass
  const plain = summarizeChanges(state.host, next, switchCtx);
  const addressPlan = planAddressChange(state.host, next, d.connector.host);
  const confirmAt = { address: addressPlan?.confirmAddress ?? d.connector.host, port: plain.confirmPort };
  const header = `Changes (from ${state.hostFrom} on the target to ${d.flake.file}):`;
  const where: BuildLocation = d.build?.location ?? { where: "target", reason: "the default" };
  const copyTo = {
    user: d.connector.user,
    host: d.connector.host,
    port: d.currentPort,
    identityFile: d.build?.identityFile,
  };
  const builtWhere = `built ${where.where === "local" ? "on this machine, then copied with nix copy" : "on the node"} (${where.reason})`;
  const show = (s: ChangeSummary, servicesNote?: string) => {
    const lines = [...s.lines, ...(servicesNote ? [servicesNote] : [])];
    const text = lines.length
      ? lines.map((l) => `  ${l}`).join("\n")
      : "  nothing the tool manages changes (host.json is the same); the system itself is rebuilt";
    const staged = addressPlan
      ? `\n  two stages: old and new addresses first (confirmed on ${confirmAt.address}), then the old ones removed`
      : "";
    d.out.text(`${header}\n${text}${staged}\n  ${builtWhere}\n`);
  };
  if (state.failed.length)
    d.out.warn(`units already failed before the switch (not blamed on it): ${state.failed.join(", ")}`);
  if (plain.refusals.length) {
    show(plain);
    throw new UserError(`refused before activation: ${plain.refusals[0]}`, {
      field: d.flake.file,
      details: plain.refusals.slice(1),
      hint: `fix ${d.flake.file} and run switch again; nothing was changed on the target`,
    });
  }
  const warnings = judgePreflight(state.preflight, plain.confirmPort, {
    sshAlreadyOnPort: state.host.ssh.ports.includes(plain.confirmPort),
  });
  if (d.healthCheck) {
    const tight = healthWindowWarning(next, d.confirmTimeoutSec);
    if (tight) warnings.push(tight);
  }
  for (const w of warnings) d.out.warn(w);
  const rebootAfterSec = d.rebootAfterSec ?? d.confirmTimeoutSec + 600;
  const slots = addressPlan ? (["dual-port", "final"] as const) : (["final"] as const);

  if (d.dryRun) {
    // a dry run builds nothing: an unpacked, unconfirmed flake on the target must not look current
    show(plain, "services started/stopped: known after the build (a dry run builds nothing)");
    const build =
      where.where === "local"
        ? describeLocalBuild(d.flake.flakeDir, d.flake.hostname, {
            ...copyTo,
            knownHostsFile: "<a temporary known_hosts holding the pinned key>",
          }).map((c) => `${c}   # on this machine`)
        : [`${unpackFlakeCommand()}   # stdin: the flake ${d.flake.flakeDir} as tar`, buildCommand(d.flake.hostname)];
    const commands = [
      ...build,
      unitListsCommand("<the built toplevel>"),
      ...slots.map((slot) =>
        launchSupervisorCommand({
          stage: slot,
          newToplevel:
            slot === "dual-port" ? "<the built toplevel with old and new addresses>" : "<the built toplevel>",
          oldToplevel: state.preflight.bootToplevel,
          confirmTimeoutSec: d.confirmTimeoutSec,
          rebootAfterSec,
          scriptPath: `${STATE_ROOT}/supervisor.sh`,
        }),
      ),
      `# then: a new key-only login on ${confirmAt.address} port ${confirmAt.port} confirms each stage, or the target rolls back by itself`,
    ];
    d.out.text(`Dry run: nothing was changed. The commands a switch runs on the target:\n${commands.join("\n")}\n`);
    return {
      host: confirmAt.address,
      port: plain.confirmPort,
      summary: plain,
      dryRun: true,
      generation: state.preflight.generation,
      timing: null,
      failedBefore: state.failed,
      warnings,
      build: where,
    };
  }

  if (state.hostFrom !== CONFIRMED_HOST_JSON) {
    // The unpacked flake is about to be replaced by an unconfirmed one: keep what the node runs
    // now as the record, or a rolled-back switch would be taken for the current configuration.
    const rec = await d.primary.run(recordConfirmedCommand(), {
      stdin: JSON.stringify(state.host, null, 2) + "\n",
      timeoutMs: 15_000,
    });
    if (!rec.stdout.includes("recorded"))
      throw new OperationError(
        `could not record the current host.json on the target (${rec.stderr.trim()}); nothing was changed`,
        { hint: "check free space and permissions in /var/lib/nixnode-install on the target" },
      );
  }
  // One build serves the summary (its unit list) and the activation of the final stage.
  let toplevel: string;
  if (where.where === "local") {
    progress("building the new system on this machine and copying it to the node (nothing is activated yet)");
    toplevel = await buildAndCopyLocally({
      flakeDir: d.flake.flakeDir,
      hostname: d.flake.hostname,
      copy: copyTo,
      keyLine: await pinnedKeyLine(d.primary, d.pinned),
      log,
      env: d.build?.env,
      signal: d.signal,
    });
  } else {
    progress("uploading and building the new system on the target (nothing is activated yet)");
    toplevel = await buildOnTarget(
      { sessions: [d.primary], log },
      d.flake.hostname,
      await tarFlake(d.flake.flakeDir),
      "switch",
    );
  }
  const units = parseUnitLists((await d.primary.run(unitListsCommand(toplevel), { timeoutMs: 30_000 })).stdout);
  const summary = summarizeChanges(state.host, next, switchCtx, {
    before: units.before ?? [],
    after: units.before ? units.after : null,
  });
  show(
    summary,
    units.before && units.after ? undefined : "services started/stopped: not known (a system without a unit list)",
  );

  const recordOnTarget = (host: HostData) => async (_o: StageOutcome, session: RemoteSession) => {
    const rec = await session.run(recordConfirmedCommand(), {
      stdin: JSON.stringify(host, null, 2) + "\n",
      timeoutMs: 15_000,
    });
    if (!rec.stdout.includes("recorded"))
      warnings.push(`could not record the confirmed host.json on the target: ${rec.stderr.trim()}`);
  };
  const moved = confirmAt.address !== d.connector.host || confirmAt.port !== d.currentPort;
  const stages: GuardedStage[] = addressPlan
    ? [
        {
          host: addressPlan.both,
          tarball: () => stagedTarball(d.flake, addressPlan.both),
          confirm: confirmAt,
          slot: "dual-port",
          name: "stage 1",
          label: `stage 1 (old and new addresses, confirmed on ${confirmAt.address})`,
          knownHost: true,
          confirmed: recordOnTarget(addressPlan.both),
        },
        {
          host: next,
          tarball: () => tarFlake(d.flake.flakeDir),
          toplevel,
          confirm: confirmAt,
          slot: "final",
          name: "stage 2",
          label: `stage 2 (the old addresses removed)`,
          confirmed: recordOnTarget(next),
        },
      ]
    : [
        {
          host: next,
          tarball: () => tarFlake(d.flake.flakeDir),
          toplevel,
          confirm: confirmAt,
          slot: "final",
          name: "",
          label: "the new configuration",
          knownHost: moved,
          confirmed: recordOnTarget(next),
        },
      ];
  const outcomes = await runGuardedStages({
    command: "switch",
    primary: d.primary,
    connector: d.connector,
    currentPort: d.currentPort,
    oldPorts: state.host.ssh.ports,
    hostname: d.flake.hostname,
    pinned: d.pinned,
    bootId: state.bootId,
    oldToplevel: state.preflight.bootToplevel,
    oldGeneration: state.preflight.generation,
    confirmTimeoutSec: d.confirmTimeoutSec,
    rebootAfterSec,
    knownHostsFile: d.knownHostsFile,
    healthCheck: d.healthCheck,
    failedBefore: state.failed,
    healthBudgetMs: d.healthBudgetMs,
    out: d.out,
    log,
    signal: d.signal,
    stages,
  });
  const last = outcomes[outcomes.length - 1]!;
  return {
    host: confirmAt.address,
    port: summary.confirmPort,
    summary,
    dryRun: false,
    generation: last.generation,
    timing: last.timing,
    failedBefore: state.failed,
    warnings,
    build: where,
  };
}
