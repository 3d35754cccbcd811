// `install --local`: the install of the machine this runs on, booted from the official NixOS
// installer. The same probe, preflight, wizard/--config, flake writer, erase gate and host-key
// staging as the remote path; a local engine instead of kexec + SSH; an end screen that tells the
// operator how to finish (lockdown) from their own machine.
import { UserError } from "../../errors";
import { detectFacts } from "../../detect/detect";
import { formatVerdict, preflight } from "../../detect/preflight";
import type { Facts } from "../../facts/types";
import { loadConfigFile } from "../../plan/config";
import type { Log } from "../../ui/log";
import type { Output } from "../../ui/output";
import type { Prompter } from "../../wizard/prompter";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { HOST_KEY_AGE } from "../../secrets/host-key";
import { freshInstallState, readInstallState, writeInstallState } from "../install-state";
import { obtainFlake } from "../obtain-flake";
import { lineProgress } from "../phase-progress";
import { gateDestructive } from "../steps/gate-destructive";
import { stageHostKey } from "../steps/stage-host-key";
import type { InstallContext, InstallSession } from "../types";
import { findBootMedium, refuseBootMedium, withoutBootMedium } from "./boot-medium";
import { endScreen, terminalQr, type EndScreen } from "./end-screen";
import { runLocalEngine } from "./local-engine";
import { hasNoAddress, withStaticAddress } from "./static-address";
import { keysFromAnswer } from "./local-keys";
import { localDryRunSteps, type DryRunStep } from "../dry-run";
import { localEngineCommands } from "./local-engine";

export interface LocalInstallInput {
  target: InstallSession;
  out: Output;
  log: Log;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  prompter: Prompter | null;
  yes: boolean;
  /** --flake (absolute) or null: <flakeRoot>/<hostname>. */
  flakeOption: string | null;
  flakeRoot: string;
  configFile: string | null;
  /** Keys from --keys-file / --github-keys (already fetched and parsed). */
  presetKeys: string[];
  githubBase?: string;
  which(name: string): string | null;
  confirmErase(lines: string[], hostname: string): Promise<void>;
  /** --dry-run: probe and plan (read-only, in memory), then describe the rest; nothing is written or erased. */
  dryRun?: boolean;
}

export interface LocalInstallOutcome {
  /** Set by --dry-run: the steps described; then nothing below happened (fingerprint is ""). */
  dryRun: DryRunStep[] | null;
  hostName: string;
  flakeDir: string;
  fingerprint: string;
  bootMedium: string | null;
  screen: EndScreen;
  warnings: string[];
}

export async function runLocalInstall(i: LocalInstallInput): Promise<LocalInstallOutcome> {
  const progress = lineProgress(i.out);
  progress.start("detect", "Probing this machine");
  let facts: Facts;
  try {
    facts = await detectFacts(i.target as Parameters<typeof detectFacts>[0], { signal: i.signal, log: i.log });
  } catch (e) {
    progress.fail("detect", (e as Error).message);
    throw e;
  }
  if (!facts.os.isNixosInstaller)
    throw new UserError(
      `--local: this machine runs ${facts.os.prettyName ?? "an unknown OS"}, not the NixOS installer`,
      {
        field: "--local",
        hint: "boot the machine from the NixOS minimal installer USB stick (nixnode-install usb), or install it over SSH from another machine",
      },
    );
  const bootDisk = await findBootMedium(i.target);
  const usable = withoutBootMedium(facts, bootDisk);
  progress.done(
    "detect",
    `${facts.os.prettyName ?? "NixOS installer"}, ${facts.arch}, ${usable.disks.length} disk(s)${bootDisk ? `; booted from ${bootDisk} (never offered, never erased)` : ""}`,
  );
  const verdict = preflight(usable, { local: true });
  if (!verdict.ok)
    throw new UserError("this machine cannot be installed: the preflight refused it", {
      field: "target",
      details: formatVerdict(verdict),
      hint: verdict.checks.find((c) => c.status === "fail")?.fix ?? "see the checks above",
    });

  let facts2 = usable;
  if (hasNoAddress(usable) && i.prompter) {
    const answer = await i.prompter.text({
      message:
        "This machine has no network address (no DHCP answer). Static IPv4 for the installed system (ADDRESS/PREFIX via GATEWAY), or Enter for DHCP",
      validate: (v) => {
        if (!v.trim()) return true;
        try {
          withStaticAddress(usable, v);
          return true;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (answer.trim()) facts2 = withStaticAddress(usable, answer);
  }
  const partial = i.configFile ? await loadConfigFile(i.configFile) : {};
  const named = [
    ...(partial.disk?.devices ?? []).map((path, n) => ({ field: `disk.devices[${n}]`, path })),
    ...(partial.disk?.data?.device ? [{ field: "disk.data.device", path: partial.disk.data.device }] : []),
  ];
  await refuseBootMedium(i.target, named, bootDisk);

  let keys = i.presetKeys;
  if (!keys.length && !partial.ssh?.authorizedKeys && i.prompter) keys = await askKeys(i);

  const flake = await obtainFlake({
    facts: facts2,
    flakeOption: i.flakeOption,
    cwd: i.flakeRoot,
    configFile: i.configFile,
    interactive: i.prompter !== null,
    prompter: i.prompter,
    env: i.env,
    out: i.out,
    // nobody logs in from here: the keys authorised are the ones the operator brought
    operatorPublicKeys: keys.length ? keys : (partial.ssh?.authorizedKeys ?? []),
    signal: i.signal,
    presetAuthorizedKeys: keys,
    dryRun: i.dryRun === true,
  });

  const ctx = {
    facts: facts2,
    flake,
    label: "this machine",
    runPhases: ["disko", "install"],
    operatorPublicKeys: flake.host.ssh.authorizedKeys,
    engine: "builtin",
    which: i.which,
    confirmErase: i.confirmErase,
    operatorIdentities: async () => [],
    out: i.out,
    log: i.log,
    state: freshInstallState(`local:${flake.hostName}`),
    presented: null,
    warnings: [] as string[],
  } as unknown as InstallContext;
  if (i.dryRun) {
    const erase: string[] = [];
    let asked: string | null = null;
    await gateDestructive({
      ...ctx,
      confirmErase: async (lines, hostname) => {
        erase.push(...lines);
        asked = i.yes ? null : hostname;
      },
    });
    const age = existsSync(join(flake.dir, HOST_KEY_AGE));
    const steps = localDryRunSteps({
      detected: [
        `${facts.os.prettyName ?? "NixOS installer"}, ${facts.arch}, ${usable.disks.length} disk(s)`,
        ...(bootDisk ? [`booted from ${bootDisk} (never offered, never erased)`] : []),
      ],
      flakeDir: flake.dir,
      hostName: flake.hostName,
      planned: !existsSync(join(flake.dir, "flake.nix")),
      erase,
      asked,
      hostKey: !age
        ? "new"
        : readInstallState(flake.dir)?.target === `local:${flake.hostName}`
          ? "replace-unbooted"
          : "keep",
      commands: localEngineCommands(flake.dir, flake.hostName),
    });
    return {
      dryRun: steps,
      hostName: flake.hostName,
      flakeDir: flake.dir,
      fingerprint: "",
      bootMedium: bootDisk,
      screen: { lines: [], addresses: [], nextCommand: "", fingerprint: "" },
      warnings: ctx.warnings,
    };
  }
  Object.assign(ctx, await gateDestructive(ctx));
  forgetUnbootedHostKey(flake.dir, flake.hostName, i.out);
  Object.assign(ctx, await stageHostKey(ctx));
  let state = ctx.state;
  let running: string | null = null;
  try {
    await runLocalEngine({
      target: i.target,
      flakeDir: ctx.flake.dir,
      hostName: ctx.flake.hostName,
      extraFilesDir: ctx.staged!.extraFilesDir,
      phases: ["disko", "install"],
      signal: i.signal,
      log: i.log,
      onPhase: (p) => {
        if (running) {
          progress.done(running);
          state = { ...state, phasesDone: [...state.phasesDone, running as "disko"] };
        }
        running = p;
        state = { ...state, phaseRunning: p };
        writeInstallState(ctx.flake.dir, state);
        progress.start(p, p === "disko" ? "Partitioning and formatting" : "Installing NixOS");
      },
      onStep: (s) => running && progress.detail(running, s),
    });
    if (running) progress.done(running);
    state = { ...state, phasesDone: ["disko", "install"], phaseRunning: null };
    writeInstallState(ctx.flake.dir, state);
  } catch (e) {
    if (running) progress.fail(running, (e as Error).message);
    throw e;
  } finally {
    ctx.staged?.temp.cleanup();
  }
  const fingerprint = ctx.flake.host.ssh.hostKeyFingerprint!;
  const screen = endScreen({ facts: facts2, hostName: ctx.flake.hostName, fingerprint, flakeOnStick: null });
  return {
    dryRun: null,
    hostName: ctx.flake.hostName,
    flakeDir: ctx.flake.dir,
    fingerprint,
    bootMedium: bootDisk,
    screen,
    warnings: ctx.warnings,
  };
}

/**
 * A local run that stopped (or was repeated) before the machine ever booted its system left a host
 * key encrypted to the operators, which cannot be decrypted here (their private keys are not on the
 * installer). Nobody has pinned it yet, so a new one is made. A flake from elsewhere keeps its key.
 */
function forgetUnbootedHostKey(flakeDir: string, hostName: string, out: Output): void {
  const age = join(flakeDir, HOST_KEY_AGE);
  if (!existsSync(age) || readInstallState(flakeDir)?.target !== `local:${hostName}`) return;
  rmSync(age);
  out.info(`The earlier local run's host key never booted: making a new one for ${hostName}.`);
}

/** Asks until the operator confirms the keys shown: a pasted line, a file path, or github:USER. */
async function askKeys(i: LocalInstallInput): Promise<string[]> {
  const p = i.prompter!;
  for (;;) {
    const answer = await p.text({
      message: "Your SSH public key: paste it, give a file path (e.g. /media/id_ed25519.pub), or github:USER",
      validate: (v) => (v.trim() ? true : "one of the three is needed: the new system has no password"),
    });
    let keys: string[];
    try {
      keys = await keysFromAnswer(answer, { base: i.githubBase, signal: i.signal });
    } catch (e) {
      i.out.warn((e as Error).message);
      continue;
    }
    for (const k of keys) i.out.info(`  ${k.length > 100 ? `${k.slice(0, 97)}...` : k}`);
    if (
      await p.confirm({
        message: `Authorise ${keys.length === 1 ? "this key" : `these ${keys.length} keys`} for root? (yes/no)`,
      })
    )
      return keys;
  }
}

export { terminalQr };
