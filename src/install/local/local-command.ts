// The CLI side of `install --local` (src/cli/commands/install.ts hands over here): flags checked
// before anything is probed, the run, the end screen (text + QR, or one JSON result), the reboot.
import { join, resolve } from "node:path";
import { CancelledError, UserError } from "../../errors";
import type { CommandContext } from "../../cli/command";
import { loadConfigFile } from "../../plan/config";
import { LocalTarget } from "../../remote/local-target";
import { GITHUB_KEYS_BASE, fetchGithubKeys, readKeysFile } from "./local-keys";
import { runLocalInstall, terminalQr } from "./run-local-install";
import { mountedSticks } from "./boot-medium";
import { shellQuote } from "../../util/shell-quote";
import { formatDryRunStep } from "../dry-run";
import { which } from "../../util/which";

/** The folder the flake goes to by default: the installer's tmpfs (copied to /etc/nixos at the end). */
export const LOCAL_FLAKE_ROOT = "/tmp/nixnode";
const SAFE_DIR = /^\/[A-Za-z0-9._/+-]*$/;

const REMOTE_ONLY = ["phases", "engine", "kexec-sha256", "no-lockdown", "copy-flake-to-etc", "reboot-timeout"];

export async function runLocalCommand(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  if (ctx.args.length)
    throw new UserError(`--local: installs this machine, so "${ctx.args[0]}" cannot be named too`, {
      field: "--local",
      hint: "leave the target out with --local, or leave --local out to install that target over SSH",
    });
  for (const flag of REMOTE_ONLY)
    if (o[flag] !== undefined && o[flag] !== false)
      throw new UserError(`--${flag}: not available with --local`, {
        field: `--${flag}`,
        hint: "--local always evaluates, partitions and installs here, then stops before the reboot; leave it out",
      });
  const yes = o.yes === true;
  const dryRun = o["dry-run"] === true;
  const interactive = ctx.out.interactive && ctx.prompter.interactive && !yes;
  // a dry run erases nothing, so it needs no --yes (as on the remote path)
  if (!interactive && !yes && !dryRun)
    throw new UserError("--yes: required when nothing can be asked (no terminal, or --json)", {
      field: "--yes",
      hint: "re-run with --yes (and --config) to erase the disks the plan names, or run it at the console to be asked",
    });
  if (typeof process.getuid === "function" && process.getuid() !== 0 && ctx.env.NIXNODE_LOCAL_ALLOW_NON_ROOT !== "1")
    throw new UserError("--local: needs root (disko and nixos-install write the disks)", {
      field: "--local",
      hint: "run it with sudo: sudo -E nix-shell -p nodejs_24 --run 'npx nixnode-install --local'",
    });
  const configFile = typeof o.config === "string" ? resolve(ctx.cwd, o.config) : null;
  if (configFile) await loadConfigFile(configFile);
  let flakeOption: string | null = null;
  if (typeof o.flake === "string") {
    flakeOption = resolve(ctx.cwd, o.flake);
    if (!SAFE_DIR.test(flakeOption))
      throw new UserError(`--flake: ${flakeOption} has characters Nix flake references cannot carry`, {
        field: "--flake",
        hint: "use a folder name of letters, digits, dots, dashes and slashes, e.g. /tmp/nixnode/node1",
      });
  }
  const presetKeys: string[] = [];
  if (typeof o["keys-file"] === "string") presetKeys.push(...readKeysFile(resolve(ctx.cwd, o["keys-file"])));
  const githubBase = ctx.env.NIXNODE_GITHUB_KEYS_BASE || GITHUB_KEYS_BASE;
  if (typeof o["github-keys"] === "string") {
    const user = o["github-keys"];
    const keys = await fetchGithubKeys(user, { base: githubBase, signal: ctx.signal });
    ctx.out.info(`GitHub publishes ${keys.length} key(s) for ${user}:`, { githubKeys: keys });
    for (const k of keys) ctx.out.info(`  ${k}`);
    if (interactive && !(await ctx.prompter.confirm({ message: "Authorise these keys for root? (yes/no)" })))
      throw new CancelledError("the keys were not confirmed: nothing was written or erased");
    presetKeys.push(...keys);
  }
  const target = new LocalTarget();
  const outcome = await runLocalInstall({
    target,
    out: ctx.out,
    log: ctx.log,
    signal: ctx.signal,
    env: ctx.env,
    prompter: interactive ? ctx.prompter : null,
    yes,
    flakeOption,
    flakeRoot: LOCAL_FLAKE_ROOT,
    configFile,
    presetKeys,
    githubBase,
    dryRun,
    which: (name) => which(name, ctx.env),
    async confirmErase(lines, hostname) {
      for (const l of lines) ctx.out.info(l);
      if (yes) return;
      const typed = await ctx.prompter.text({
        message: `Type the host name (${hostname}) to erase these disks and install NixOS`,
      });
      if (typed.trim() !== hostname)
        throw new CancelledError(
          `"${typed.trim()}" is not "${hostname}": nothing was erased. This machine is unchanged.`,
        );
    },
  });
  for (const w of outcome.warnings) ctx.out.warn(w);
  if (outcome.dryRun) {
    for (const st of outcome.dryRun)
      if (ctx.out.json) ctx.out.info(`${st.name}: ${st.status}`, { dryRun: true, ...st });
      else ctx.out.info(formatDryRunStep(st));
    ctx.out.result(
      `Dry run: nothing was written, erased or rebooted. Without --dry-run, ${outcome.hostName} is installed as listed.`,
      {
        local: true,
        dryRun: true,
        hostName: outcome.hostName,
        flakeDir: outcome.flakeDir,
        bootMedium: outcome.bootMedium,
        steps: outcome.dryRun,
        warnings: outcome.warnings,
      },
    );
    return 0;
  }
  const s = outcome.screen;
  const human = [...s.lines];
  if (!ctx.out.json) human.push("", "The same command as a QR code:", terminalQr(s.nextCommand));
  let reboot = o.reboot === true;
  const copies: string[] = [];
  if (interactive) {
    ctx.out.info(human.join("\n"));
    human.length = 0;
    for (const mp of await mountedSticks(target, outcome.bootMedium)) {
      const dest = `${mp}/${outcome.hostName}`;
      if (
        !(await ctx.prompter.confirm({ message: `Copy the flake to ${dest} too (a USB stick to carry it)? (yes/no)` }))
      )
        continue;
      const r = await target.run(
        `mkdir -p ${shellQuote(dest)} && cp -a ${shellQuote(`${outcome.flakeDir}/.`)} ${shellQuote(dest)}/ && sync`,
        {
          timeoutMs: 120_000,
        },
      );
      if (r.code === 0) {
        copies.push(dest);
        ctx.out.info(`Copied the flake to ${dest}: on your machine, lockdown with --flake pointing at that copy.`);
      } else ctx.out.warn(`could not copy the flake to ${dest}: ${r.stderr.trim() || `exit ${r.code}`}`);
    }
  }
  if (!reboot && interactive) {
    reboot = await ctx.prompter.confirm({ message: "Reboot into the new system now? (yes/no)" });
  }
  if (reboot) {
    // detached, so that the result below is printed before the machine goes down
    await target.run("setsid sh -c 'sleep 3; reboot' </dev/null >/dev/null 2>&1 &", { timeoutMs: 10_000 });
  }
  const tail = reboot ? "Rebooting into the new system." : "Reboot when you are ready (remove the USB stick): reboot";
  ctx.out.result(interactive ? tail : [...human, "", tail].join("\n"), {
    local: true,
    hostName: outcome.hostName,
    flakeDir: outcome.flakeDir,
    hostKeyFingerprint: outcome.fingerprint,
    addresses: s.addresses,
    nextCommand: s.nextCommand,
    bootMedium: outcome.bootMedium,
    rebooting: reboot,
    flakeCopies: copies,
    warnings: outcome.warnings,
  });
  return 0;
}
