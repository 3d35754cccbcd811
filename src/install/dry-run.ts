// `install --dry-run`: walks the SAME list of steps as the install (INSTALL_STEPS), asking each step's
// own skip() why it would not run. The read-only steps (connect and probe, check --phases, load or
// plan the flake in memory, resolve resume) run for real, because what the later steps would do
// depends on them; every step that writes, asks or changes the target is only described, with the
// exact command the engine would run (temporary paths as placeholders, never a secret).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { InternalError } from "../errors";
import { shellQuote } from "../util/shell-quote";
import { REMOTE_FLAKE_DIR, evalSystemCommand } from "./engine-builtin";
import { buildNixosAnywhereArgs } from "./nixos-anywhere-args";
import { INSTALL_STEPS, type InstallStep } from "./run-install";
import { checkRequestedPhases } from "./steps/check-phases";
import { connectTarget } from "./steps/connect-target";
import { gateDestructive } from "./steps/gate-destructive";
import { loadFlake } from "./steps/load-flake";
import { resolveResume } from "./steps/resolve-resume";
import type { InstallContext, InstallDeps } from "./types";

/** Placeholders for what only exists during a real run. */
export const DRY_RUN_PLACEHOLDERS = {
  extraFiles: "<staged-host-key-dir>",
  kexecFile: "<kexec-tarball-checked-here>",
} as const;

export interface DryRunStep {
  name: string;
  status: "would-run" | "skipped";
  /** Why the step is skipped (its own skip()); null when it would run. */
  reason: string | null;
  /** True for the read-only steps the dry run actually performed (connect, probe, plan in memory). */
  ranReadOnly: boolean;
  detail: string[];
  /** nixos-anywhere's argv (argv[0] is the program), as the run-engine step would start it. */
  command: string[] | null;
  /** The built-in engine's commands on the target, in order. */
  targetCommands: string[] | null;
}

interface Preview {
  set?: Partial<InstallContext>;
  ranReadOnly?: boolean;
  detail?: string[];
  command?: string[];
  targetCommands?: string[];
}

type Previewer = (ctx: InstallContext) => Promise<Preview>;

const PREVIEWS: Record<string, Previewer> = {
  async connect(ctx) {
    const set = await connectTarget(ctx);
    const f = set.facts;
    return {
      set,
      ranReadOnly: true,
      detail: [
        `host key ${set.presented ?? "(unknown)"}`,
        `${f.os.prettyName ?? f.os.id ?? "unknown OS"}, ${f.arch}, ${f.disks.length} disk(s)`,
      ],
    };
  },
  async "check-phases"(ctx) {
    await checkRequestedPhases(ctx);
    return { ranReadOnly: true, detail: ctx.phases ? [`--phases ${ctx.phases.join(",")} accepted`] : [] };
  },
  async "load-flake"(ctx) {
    const set = await loadFlake(ctx);
    const onDisk = existsSync(join(set.flake.dir, "flake.nix"));
    return {
      set,
      ranReadOnly: true,
      detail: [
        `${set.flake.dir}#${set.flake.hostName}${onDisk ? "" : " (planned in memory; a real run writes it there)"}`,
      ],
    };
  },
  async "resolve-resume"(ctx) {
    const set = await resolveResume(ctx);
    return {
      set,
      ranReadOnly: true,
      detail: set.alreadyInstalled
        ? ["the target already runs the installed system: only verify and hand over"]
        : [`phases: ${set.runPhases.join(", ")}`, ...(set.resumedFrom ? [`resumes ${set.resumedFrom}`] : [])],
    };
  },
  async gate(ctx) {
    // the same checks as the real gate; the confirmation is collected instead of asked
    const erase: string[] = [];
    let asked: string | null = null;
    const set = await gateDestructive({
      ...ctx,
      confirmErase: async (lines, hostname) => {
        erase.push(...lines);
        asked = hostname;
      },
    });
    return {
      set,
      detail: [
        `engine: ${set.engineName}`,
        ...erase,
        ...(asked ? [`would ask to type "${asked}" (or take --yes) before erasing; not asked in a dry run`] : []),
      ],
    };
  },
  async "stage-host-key"(ctx) {
    const { flake } = ctx;
    const where = `hosts/${flake.hostName}/host.json`;
    if (!ctx.runPhases.includes("install")) {
      const pinned = flake.host.ssh.hostKeyFingerprint;
      return {
        detail: [
          pinned
            ? `would keep the pinned host key ${pinned}`
            : `would stop: ${where} has no ssh.hostKeyFingerprint and the install phase is not selected`,
        ],
      };
    }
    const stored = existsSync(join(flake.dir, "secrets", "host-key.age"));
    return {
      detail: [
        stored
          ? `would keep the node's host key from secrets/host-key.age and pin it in ${where}`
          : `would generate a new ed25519 host key and pin it in ${where}`,
        `would stage it for the engine in ${DRY_RUN_PLACEHOLDERS.extraFiles} (0700, removed when the engine step ends)`,
      ],
    };
  },
  async "run-engine"(ctx) {
    return ctx.engineName === "nixos-anywhere" ? nixosAnywherePreview(ctx) : builtinPreview(ctx);
  },
  async verify(ctx) {
    const { destination: d } = ctx;
    if (ctx.alreadyInstalled)
      return { detail: ["would verify the running system over the session already open, then record known_hosts"] };
    const pinned = ctx.flake.host.ssh.hostKeyFingerprint ?? "the new host key";
    return {
      detail: [
        `would wait for ${d.host}:${d.port} to present ${pinned}, log in once with it, and add it to known_hosts`,
      ],
    };
  },
  async "hand-over"(ctx) {
    return {
      detail: [
        ctx.lockdown
          ? "would lock the node down (the lockdown command, with the same SSH options)"
          : "--no-lockdown: would stop after the verified install",
      ],
    };
  },
};

function nixosAnywherePreview(ctx: InstallContext): Preview {
  const { flake, destination: dest } = ctx;
  const hostDir = join(flake.dir, "hosts", flake.hostName);
  // a generated flake (planned in memory here) always carries its hardware description
  const planned = !existsSync(join(flake.dir, "flake.nix")) && flake.plan !== null;
  const hasHardware =
    planned || ["facter.json", "hardware.nix", "hardware-configuration.nix"].some((f) => existsSync(join(hostDir, f)));
  const kexec = ctx.runPhases.includes("kexec") && !ctx.facts.os.isNixosInstaller;
  const args = buildNixosAnywhereArgs({
    kexecFile: kexec ? DRY_RUN_PLACEHOLDERS.kexecFile : null,
    flakeDir: flake.dir,
    hostName: flake.hostName,
    user: dest.user,
    host: dest.host,
    port: dest.port,
    identityFile: ctx.identityFile,
    extraFilesDir: DRY_RUN_PLACEHOLDERS.extraFiles,
    generateFacterReportTo: hasHardware ? null : join(hostDir, "facter.json"),
    facts: ctx.facts,
    operator: { platform: process.platform, arch: process.arch },
    phases: ctx.runPhases,
    usePasswordFromEnv: !ctx.identityFile && ctx.password !== null,
  });
  const detail = [
    "its ssh connections pinned (through a wrapper first on PATH) to the key presented now and the new one",
    ...(kexec ? ["the kexec tarball of the planned release, downloaded and checked here first"] : []),
    ...(!ctx.identityFile && ctx.password !== null ? ["the password through $SSHPASS, never argv"] : []),
  ];
  return { command: [ctx.which("nixos-anywhere") ?? "nixos-anywhere", ...args], detail };
}

function builtinPreview(ctx: InstallContext): Preview {
  const { runPhases: p, flake } = ctx;
  const cmds: string[] = [];
  if (p.includes("kexec") && !ctx.facts.os.isNixosInstaller)
    cmds.push(
      "download the NixOS kexec installer of the planned release, check its SHA-256, and kexec into it",
      "cat /etc/os-release (after kexec: must be the NixOS installer)",
    );
  if (p.includes("disko") || p.includes("install"))
    cmds.push(
      `upload the flake to /root/nixnode-flake.tar, unpack it into ${REMOTE_FLAKE_DIR}`,
      evalSystemCommand(REMOTE_FLAKE_DIR, flake.hostName),
    );
  if (p.includes("disko"))
    cmds.push(
      `nix build --no-link --print-out-paths ${shellQuote(`${REMOTE_FLAKE_DIR}#nixosConfigurations."${flake.hostName}".config.system.build.diskoScript`)}`,
      "<the disko script just built> (partitions and formats the disks)",
    );
  if (p.includes("install"))
    cmds.push(
      "mkdir -p /mnt/etc/ssh && chmod 755 /mnt/etc/ssh",
      "upload the staged host key to /mnt/etc/ssh/ssh_host_ed25519_key(.pub)",
      `nixos-install --no-root-passwd --no-channel-copy --flake ${shellQuote(`${REMOTE_FLAKE_DIR}#${flake.hostName}`)}`,
    );
  if (p.includes("reboot")) cmds.push("setsid sh -c 'sleep 2; reboot' </dev/null >/dev/null 2>&1 &");
  return { targetCommands: cmds, detail: ["the built-in engine (no local Nix): on the target, in order"] };
}

/**
 * Walks `steps` as runInstall does, without writing, asking or changing anything on the target.
 * `report` gets each step as soon as it is known; the primary session is closed at the end.
 */
export async function dryRunInstall(
  deps: InstallDeps,
  report: (s: DryRunStep) => void,
  steps: readonly InstallStep[] = INSTALL_STEPS,
): Promise<DryRunStep[]> {
  const ctx = { ...deps, session: null, staged: null, warnings: [] } as unknown as InstallContext;
  const listed: DryRunStep[] = [];
  try {
    for (const step of steps) {
      const preview = PREVIEWS[step.name];
      if (!preview) throw new InternalError(`install step ${step.name} has no dry-run description`);
      const reason = step.skip?.(ctx) ?? null;
      let p: Preview = {};
      if (!reason) {
        p = await preview(ctx);
        Object.assign(ctx, p.set);
      }
      const s: DryRunStep = {
        name: step.name,
        status: reason ? "skipped" : "would-run",
        reason,
        ranReadOnly: p.ranReadOnly === true,
        detail: p.detail ?? [],
        command: p.command ?? null,
        targetCommands: p.targetCommands ?? null,
      };
      ctx.log.write(`dry run: install step ${step.name}: ${reason ? `skipped (${reason})` : "would run"}`);
      listed.push(s);
      report(s);
    }
  } finally {
    if (ctx.session) await ctx.session.close().catch(() => undefined);
  }
  return listed;
}

/** The step as a few lines of text for a terminal. */
export function formatDryRunStep(s: DryRunStep): string {
  const head =
    s.status === "skipped"
      ? `↓ ${s.name}: skipped (${s.reason})`
      : `${s.ranReadOnly ? "✔" : "›"} ${s.name}: ${s.ranReadOnly ? "done (read-only)" : "would run"}`;
  const lines = [head, ...s.detail.map((d) => `    ${d}`)];
  if (s.command) lines.push(`    $ ${s.command.map(shellQuote).join(" ")}`);
  for (const c of s.targetCommands ?? []) lines.push(`    target$ ${c}`);
  return lines.join("\n");
}

export interface LocalDryRunInput {
  /** What the probe found (it ran: read-only), the boot medium named. */
  detected: string[];
  flakeDir: string;
  hostName: string;
  /** True when the flake was planned in memory (a real run writes it to flakeDir). */
  planned: boolean;
  /** The erase summary exactly as the real gate shows it. */
  erase: string[];
  /** The host name a real run asks to type (null with --yes). */
  asked: string | null;
  hostKey: "new" | "replace-unbooted" | "keep";
  /** runLocalEngine's commands, in order (src/install/local/local-engine.ts). */
  commands: string[];
}

/** `install --local --dry-run`: the same step list and format as the remote dry run, for this machine. */
export function localDryRunSteps(i: LocalDryRunInput): DryRunStep[] {
  const step = (name: string, p: Partial<DryRunStep>): DryRunStep => ({
    name,
    status: "would-run",
    reason: null,
    ranReadOnly: false,
    detail: [],
    command: null,
    targetCommands: null,
    ...p,
  });
  const where = `hosts/${i.hostName}/host.json`;
  return [
    step("detect", { ranReadOnly: true, detail: i.detected }),
    step("load-flake", {
      ranReadOnly: true,
      detail: [`${i.flakeDir}#${i.hostName}${i.planned ? " (planned in memory; a real run writes it there)" : ""}`],
    }),
    step("gate", {
      detail: [
        "engine: local (this machine, booted from the NixOS installer)",
        ...i.erase,
        ...(i.asked ? [`would ask to type "${i.asked}" (or take --yes) before erasing; not asked in a dry run`] : []),
      ],
    }),
    step("stage-host-key", {
      detail: [
        i.hostKey === "keep"
          ? `would keep the node's host key from secrets/host-key.age and pin it in ${where}`
          : `would generate a new ed25519 host key${i.hostKey === "replace-unbooted" ? " (replacing the earlier local run's, which never booted)" : ""}, pin it in ${where} and store it encrypted in secrets/host-key.age`,
      ],
    }),
    step("run-engine", {
      detail: ["on this machine, in order (nothing is rebooted on failure)"],
      targetCommands: i.commands,
    }),
    step("hand-over", {
      detail: [
        "would show the addresses, the pinned host key and the lockdown command for your own machine (and its QR code), then offer to copy the flake to a second USB stick and to reboot",
      ],
    }),
  ];
}
