// `nixnode-install [install] [user@]host[:port]`: detect, plan (wizard or --config), confirm the
// erase, install NixOS with a pinned host key, verify it, lock it down. Every question is asked
// before the task list starts; scripted runs (--yes) never prompt.
import { relative, resolve } from "node:path";
import { homedir } from "node:os";
import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { parseSha256Flag } from "../../install/kexec-image";
import { findFlakeHost, readHostData } from "../../install/flake-host";
import { CancelledError, OperationError, UserError } from "../../errors";
import type { Command, CommandContext } from "../command";
import { int, oneOf } from "../../util/fields";
import { parsePhases } from "../../install/phases";
import { parseDestination } from "../../remote/destination";
import { SSH_CLI_OPTIONS, connectFromCli, sshFlagsForNext, sshSettingsFromCli } from "../target-options";
import { runInstall } from "../../install/run-install";
import { dryRunInstall, formatDryRunStep } from "../../install/dry-run";
import { pinKnownHost } from "../../install/pin-known-host";
import { obtainFlake } from "../../install/obtain-flake";
import { operatorPublicKeys } from "../../install/operator-keys";
import { detectFacts } from "../../detect/detect";
import type { InstallDeps } from "../../install/types";
import { probeHostKey } from "../../install/wait-for-pinned-host-key";
import { operatorIdentitiesFromCli } from "../operator-identities";
import { formatVerdict, preflight } from "../../detect/preflight";
import type { Facts } from "../../facts/types";
import { lineProgress } from "../../install/phase-progress";
import { loadConfigFile } from "../../plan/config";
import { readableDir, writableDir } from "../local-paths";
import { runLocalCommand } from "../../install/local/local-command";
import { which } from "../../util/which";

const ENGINES = ["auto", "nixos-anywhere", "builtin"] as const;

/** host.json's pinned fingerprint from --flake, or from ./<hostname> named by --config, if present. */
function pinnedFromEarlierRun(flake: string | null, config: string | null, cwd: string): string | null {
  const candidates: string[] = [];
  if (flake) candidates.push(flake);
  if (config && existsSync(config)) {
    try {
      const name = (JSON.parse(readFileSync(config, "utf8")) as { hostname?: unknown }).hostname;
      if (typeof name === "string" && /^[a-z0-9-]+$/.test(name)) candidates.push(resolve(cwd, name));
    } catch (e) {
      // an unreadable --config is reported with its field by the planner; here it only means "no hint"
      void e;
    }
  }
  for (const dir of candidates) {
    if (!existsSync(join(dir, "flake.nix"))) continue;
    try {
      return readHostData(dir, findFlakeHost(dir)).ssh.hostKeyFingerprint ?? null;
    } catch (e) {
      // an explicit --flake that cannot be read is bad input, reported before the first packet
      if (dir === flake || !(e instanceof UserError)) throw e;
      return null;
    }
  }
  return null;
}

const command: Command = {
  name: "install",
  summary: "detect, plan, install NixOS with a pinned host key, verify it, and lock it down",
  usage: "nixnode-install [install] [user@]host[:port] [--config FILE] [--yes] [--flake DIR] [--dry-run] [options]",
  description: `
Erases the target's system disk(s) and installs NixOS from a flake generated for it (or the one in
--flake). Before anything is erased it shows the disks and asks you to type the host name (or takes
--yes). The new system's SSH host key is generated here and pinned: after the reboot only that key
is accepted and your known_hosts gets it. Re-running after an interruption resumes.

Engines: nixos-anywhere when it is on PATH (auto), otherwise the built-in path that needs no Nix
on your machine (the target downloads the NixOS kexec installer and builds itself).

--dry-run connects and probes (read-only, as \`detect\` does), then lists every install step with
whether it would run or be skipped and why, and the exact engine command. It writes no flake, makes
no host key, asks nothing and changes nothing on the target.

Examples:
  nixnode-install root@203.0.113.7
  nixnode-install root@203.0.113.7 --config node.json --yes --json
  nixnode-install root@203.0.113.7 --flake ./my-node --phases disko,install,reboot --yes
  nixnode-install root@203.0.113.7 --config node.json --dry-run`,
  maxArgs: 1,
  options: {
    config: {
      type: "string",
      path: "file-in",
      value: "FILE",
      help: "answers (nixnode.json); with --yes nothing is asked",
    },
    yes: { type: "boolean", short: "y", help: "do not ask: erase the disks shown without typing the host name" },
    "dry-run": {
      type: "boolean",
      help: "connect and probe only; list each step (would run / skipped, why) and the engine command",
    },
    flake: {
      type: "string",
      value: "DIR",
      help: "use this flake folder (made by `plan`), or generate into it (default ./<hostname>)",
    },
    phases: {
      type: "string",
      value: "LIST",
      help: "run only these of kexec,disko,install,reboot (default: resume where the last run stopped)",
    },
    engine: { type: "string", value: "NAME", help: "auto | nixos-anywhere | builtin (default auto)" },
    "reboot-timeout": {
      type: "string",
      value: "SEC",
      help: "how long to wait for the new system to answer (default 600)",
    },
    "no-lockdown": { type: "boolean", help: "stop after the verified install; run `nixnode-install lockdown` later" },
    "copy-flake-to-etc": {
      type: "boolean",
      help: "copy the flake to /etc/nixos on the new system so it can rebuild itself",
    },
    "kexec-sha256": {
      type: "string",
      value: "HEX",
      help: "SHA-256 the kexec installer tarball must have (default: the digest GitHub publishes for it)",
    },
    local: {
      type: "boolean",
      help: "install the machine this runs on (booted from the NixOS installer USB stick); see docs/local-install.md",
    },
    "keys-file": {
      type: "string",
      path: "file-in",
      value: "FILE",
      help: "with --local: authorise the public keys in FILE (e.g. on a second USB stick)",
    },
    "github-keys": {
      type: "string",
      value: "USER",
      help: "with --local: authorise the keys GitHub publishes for USER (https://github.com/USER.keys)",
    },
    reboot: { type: "boolean", help: "with --local: reboot into the new system at the end without asking" },
    ...SSH_CLI_OPTIONS,
  },
  async run(ctx: CommandContext) {
    const o = ctx.options;
    if (o.local) return runLocalCommand(ctx);
    for (const flag of ["keys-file", "github-keys", "reboot"] as const)
      if (o[flag] !== undefined)
        throw new UserError(`--${flag}: only with --local`, {
          field: `--${flag}`,
          hint: "over SSH the keys you log in with are authorised; leave it out, or add --local at the machine's console",
        });
    const destArg = ctx.args[0];
    if (!destArg)
      throw new UserError("target: missing", { field: "target", hint: "usage: nixnode-install root@203.0.113.7" });
    const destination = parseDestination(destArg, "target");
    // every SSH flag is checked before the first packet (throws UserError naming the flag)
    sshSettingsFromCli(ctx, destArg);
    const engine = hinted(
      () => oneOf(o.engine ?? "auto", "--engine", ENGINES),
      "leave --engine out (auto), or name nixos-anywhere or builtin",
    );
    const rt = o["reboot-timeout"];
    if (typeof rt === "string" && !/^\d+$/.test(rt))
      throw new UserError(`--reboot-timeout: "${rt}" is not a number of seconds`, {
        field: "--reboot-timeout",
        hint: "e.g. --reboot-timeout 900 (15 minutes)",
      });
    const rebootTimeoutSec =
      typeof rt === "string" ? int(Number(rt), "--reboot-timeout", 5, 86_400, "a number of seconds") : null;
    const phases = typeof o.phases === "string" ? parsePhases(o.phases) : null;
    const kexecSha256 = typeof o["kexec-sha256"] === "string" ? parseSha256Flag(o["kexec-sha256"]) : null;
    const yes = o.yes === true;
    const dryRun = o["dry-run"] === true;
    const interactive = ctx.out.interactive && !yes;
    // a dry run erases nothing, so it needs no --yes
    if (!interactive && !yes && !dryRun) {
      throw new UserError("--yes: required when nothing can be asked (no terminal, or --json)", {
        field: "--yes",
        hint: "re-run with --yes to confirm erasing the target's disks, or run it in a terminal to be asked",
      });
    }
    const env = ctx.env;
    const home = env.HOME ?? homedir();
    const knownHosts =
      typeof o["known-hosts"] === "string" ? resolve(ctx.cwd, o["known-hosts"]) : join(home, ".ssh", "known_hosts");
    const identities = (
      Array.isArray(o.identity) ? o.identity : typeof o.identity === "string" ? [o.identity] : []
    ).map((p) => resolve(ctx.cwd, p));
    // Every local input is checked before the first packet: a mistake here is exit 2, target untouched.
    if (typeof o.config === "string") await loadConfigFile(resolve(ctx.cwd, o.config));
    const flakeDir = typeof o.flake === "string" ? checkFlakeOption(o.flake, ctx) : null;
    const generating = !(flakeDir && existsSync(join(flakeDir, "flake.nix")));
    const prompter = interactive ? ctx.prompter : null;
    const password = env.NIXNODE_SSH_PASSWORD ?? null;
    if (password) ctx.log.addSecret(password);
    // The screen is never blank while the target is reached and probed (plain lines or step events).
    const early = lineProgress(ctx.out);
    const label = formatLabel(destination);
    let openStep: string | null = "connect";
    early.start("connect", `Connecting to ${label}`);

    const operatorKeys = await operatorPublicKeys(env, identities);
    const deps: InstallDeps = {
      out: ctx.out,
      log: ctx.log,
      signal: ctx.signal,
      env,
      destination: { user: destination.user ?? "root", host: destination.host, port: destination.port ?? 22 },
      knownPinnedHostKey: pinnedFromEarlierRun(
        typeof o.flake === "string" ? resolve(ctx.cwd, o.flake) : null,
        typeof o.config === "string" ? resolve(ctx.cwd, o.config) : null,
        ctx.cwd,
      ),
      probeHostKey,
      connect: async ({ pinnedHostKey, purpose }) => {
        const session = await connectFromCli(ctx, destArg, pinnedHostKey ? { pinnedHostKey } : undefined);
        if (purpose === "primary" && openStep === "connect") {
          early.done("connect", session.hostKeyFingerprint ? `host key ${session.hostKeyFingerprint}` : undefined);
          openStep = null;
        }
        return session;
      },
      detect: async (session) => {
        openStep = "detect";
        early.start("detect", `Probing ${label}`);
        const facts = await detectFacts(session as Parameters<typeof detectFacts>[0], {
          signal: ctx.signal,
          log: ctx.log,
        });
        early.done("detect", describeFacts(facts));
        openStep = null;
        return facts;
      },
      obtainFlake: (facts) => {
        // A machine the preflight refuses is refused before the wizard asks anything.
        if (generating) refuseBeforeQuestions(facts, label);
        return obtainFlake({
          facts,
          flakeOption: typeof o.flake === "string" ? resolve(ctx.cwd, o.flake) : null,
          cwd: ctx.cwd,
          configFile: typeof o.config === "string" ? resolve(ctx.cwd, o.config) : null,
          interactive,
          prompter,
          env,
          out: ctx.out,
          operatorPublicKeys: operatorKeys,
          identityFiles: identities,
          signal: ctx.signal,
          dryRun,
        });
      },
      async confirmErase(lines, hostname) {
        for (const l of lines) ctx.out.info(l);
        if (yes) return;
        const typed = await prompter!.text({
          message: `Type the host name (${hostname}) to erase these disks and install NixOS`,
        });
        if (typed.trim() !== hostname)
          throw new CancelledError(
            `"${typed.trim()}" is not "${hostname}": nothing was erased. The target is unchanged.`,
          );
      },
      engine,
      kexecSha256,
      which: (name) => which(name, env),
      phases,
      rebootTimeoutMs: rebootTimeoutSec === null ? null : rebootTimeoutSec * 1000,
      copyFlakeToEtc: o["copy-flake-to-etc"] === true,
      identityFile: identities[0] ?? null,
      operatorPublicKeys: operatorKeys,
      operatorIdentities: () => operatorIdentitiesFromCli(ctx, identities),
      password,
      async trustHostKey(publicKey) {
        pinKnownHost(knownHosts, destination.host, destination.port ?? 22, publicKey);
        return knownHosts;
      },
      lockdown: o["no-lockdown"] ? null : await lockdownPhase(ctx, destArg),
    };
    if (dryRun) {
      let listed;
      try {
        listed = await dryRunInstall(deps, (s) =>
          ctx.out.json
            ? ctx.out.info(`${s.name}: ${s.status}`, { dryRun: true, ...s })
            : ctx.out.info(formatDryRunStep(s)),
        );
      } catch (e) {
        if (openStep) early.fail(openStep, (e as Error).message);
        throw e;
      }
      ctx.out.result(`Dry run of the install of ${label}: nothing was written, asked or changed on the target.`, {
        dryRun: true,
        steps: listed,
      });
      return 0;
    }
    let outcome;
    try {
      outcome = await runInstall(deps);
    } catch (e) {
      if (openStep) early.fail(openStep, (e as Error).message);
      throw e;
    }
    const human = [
      `✔ ${outcome.hostName} runs NixOS; its host key ${outcome.fingerprint} is pinned in ${knownHosts}.`,
      o["no-lockdown"]
        ? `Next: nixnode-install lockdown ${destArg}${sshFlagsForNext(ctx)} --flake ${relative(ctx.cwd, outcome.flakeDir) || "."}`
        : "",
    ].filter(Boolean);
    ctx.out.result(human.join("\n"), {
      hostName: outcome.hostName,
      flakeDir: outcome.flakeDir,
      hostKeyFingerprint: outcome.fingerprint,
      knownHosts,
      warnings: outcome.warnings,
      resumedFrom: outcome.resumedFrom,
      lockdown: !o["no-lockdown"],
    });
    return 0;
  },
};

function hinted<T>(check: () => T, hint: string): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof UserError && !e.hint) throw new UserError(e.message, { field: e.field, hint });
    throw e;
  }
}

function formatLabel(d: { user?: string; host: string; port?: number }): string {
  return `${d.user ?? "root"}@${d.host.includes(":") ? `[${d.host}]` : d.host}:${d.port ?? 22}`;
}

function describeFacts(f: Facts): string {
  return `${f.os.prettyName ?? f.os.id ?? "unknown OS"}, ${f.arch}, ${f.disks.length} disk(s)`;
}

/** --flake: an existing flake to read, or a folder to generate into; either way checked now. */
function checkFlakeOption(path: string, ctx: CommandContext): string {
  const abs = resolve(ctx.cwd, path);
  return existsSync(join(abs, "flake.nix")) ? readableDir(path, "--flake", ctx) : writableDir(path, "--flake", ctx);
}

function refuseBeforeQuestions(facts: Facts, label: string): void {
  const verdict = preflight(facts);
  if (verdict.ok) return;
  throw new UserError(`${label} cannot be installed: the preflight refused it`, {
    field: "target",
    details: formatVerdict(verdict),
    hint: verdict.checks.find((c) => c.status === "fail")?.fix ?? "see the checks above",
  });
}

/**
 * The lockdown phase after a verified install: the `lockdown` command itself, handed the same SSH
 * options and the flake, so that both entry points behave identically.
 */
async function lockdownPhase(ctx: CommandContext, destination: string): Promise<InstallDeps["lockdown"]> {
  return async (flake) => {
    const lockdown = (await import("./lockdown")).default;
    // --host-key named the OLD system's key; lockdown talks to the new one, pinned in host.json
    // --yes confirmed the erase; the lockdown takes it only with --local (and refuses it otherwise)
    const dropped = new Set(["host-key", "accept-new-host-key", "yes"]);
    const known = new Set(Object.keys(lockdown.options));
    const options = Object.fromEntries(Object.entries(ctx.options).filter(([k]) => known.has(k) && !dropped.has(k)));
    // one final result for the whole command: lockdown's own result becomes a progress line
    const out = { ...ctx.out, result: (human: string, data: unknown) => ctx.out.info(human, data) };
    const code = await lockdown.run({
      ...ctx,
      out,
      args: [destination],
      options: { ...options, flake: flake.dir, host: flake.hostName },
    });
    if (typeof code === "number" && code !== 0) throw new OperationError(`lockdown ended with exit code ${code}`);
  };
}

export default command;
