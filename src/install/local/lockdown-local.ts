// `lockdown --local`: the lockdown run at the console of the installed node. The person typing IS the
// way back in (console, not SSH), so there is nothing to lose by switching straight to the final state:
// no dual-port stage, no supervisor, no confirmation window. The data is the lockdown's own
// (stageHostData "final"), written through the flake's host.json owner, then built and activated the
// way NixOS itself does it (nix build of the toplevel, nix-env --set on the system profile,
// switch-to-configuration switch). A build that fails leaves the flake and the system as they were; a
// switch that fails is rolled back to the previous generation.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { CancelledError, OperationError, UserError } from "../../errors";
import type { CommandContext } from "../../cli/command";
import { restoreHostFile } from "../../flake/host-file";
import { stageInFlakeGit } from "../../generate/write-flake";
import { prepareLockdown } from "../../lockdown";
import { writeHostData } from "../../lockdown/flake-files";
import { writeLockdownState } from "../../lockdown/hand-off";
import { stageHostData } from "../../lockdown/host-stages";
import { SYSTEM_PROFILE } from "../../lockdown/remote-commands";
import { fingerprintSha256 } from "../../remote/known-hosts";
import { LocalTarget } from "../../remote/local-target";
import { lockdownPort } from "../../util/fields";
import { shellQuote } from "../../util/shell-quote";
import { writeAtomic } from "../../util/write-atomic";

/** Where install --local leaves the flake on the installed system. */
export const INSTALLED_FLAKE_DIR = "/etc/nixos";

/** Flags of the SSH lockdown that mean nothing at the console. */
const SSH_ONLY = [
  "confirm-timeout",
  "ssh-config-block",
  "identity",
  "password-file",
  "host-key",
  "accept-new-host-key",
  "known-hosts",
  "connect-timeout",
  "ssh-config",
];

export interface LocalLockdownResult {
  local: true;
  /** What the text output says, for --json readers too. */
  summary: string;
  hostName: string;
  flakeDir: string;
  port: number;
  toplevel: string;
  generation: number | null;
  previousToplevel: string | null;
  addresses: string[];
  hostKeyFingerprint: string;
  knownHostsLine: string | null;
}

export async function runLockdownLocal(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  if (ctx.args.length)
    throw new UserError(`--local: locks down the machine this runs on, so "${ctx.args[0]}" cannot be named too`, {
      field: "--local",
      hint: "leave the target out with --local, or leave --local out to lock that target down over SSH",
    });
  for (const flag of SSH_ONLY)
    if (o[flag] !== undefined && o[flag] !== false)
      throw new UserError(`--${flag}: not available with --local (nothing connects over SSH)`, {
        field: `--${flag}`,
        hint: "leave it out: at the console the final state is applied directly",
      });
  const port = typeof o.port === "string" ? lockdownPort(o.port, "--port") : undefined;
  const yes = o.yes === true;
  const interactive = ctx.out.interactive && ctx.prompter.interactive && !yes;
  if (!interactive && !yes)
    throw new UserError("--yes: required when nothing can be asked (no terminal, or --json)", {
      field: "--yes",
      hint: "re-run with --yes to lock this machine down, or run it at the console to be asked",
    });
  if (typeof process.getuid === "function" && process.getuid() !== 0)
    throw new UserError("--local: needs root (it activates a new system configuration)", {
      field: "--local",
      hint: "run it as root at the console: sudo nixnode-install lockdown --local",
    });
  refuseUnlessInstalledNixos();
  const flakeDir = resolve(ctx.cwd, typeof o.flake === "string" ? o.flake : INSTALLED_FLAKE_DIR);
  const prepared = prepareLockdown({
    flakeDir,
    hostname: typeof o.host === "string" ? o.host : undefined,
    port,
    extraIgnoreIP: (o["ignore-ip"] as string[] | undefined) ?? [],
  });
  const f = prepared.flake;
  const final = stageHostData(f.host, "final", {
    port: prepared.port,
    operatorAddress: null,
    extraIgnoreIP: prepared.extraIgnoreIP,
  });
  ctx.out.info(
    `At the console there is no lockout risk: ${f.hostname} is switched straight to the final lockdown ` +
      `(SSH on port ${prepared.port} only, keys only, firewall on, fail2ban), without the confirmation ` +
      `window the lockdown over SSH needs. If SSH does not work afterwards, you are still at this console.`,
  );
  if (interactive && !(await ctx.prompter.confirm({ message: `Lock down ${f.hostname} now? (yes/no)` })))
    throw new CancelledError("nothing was changed: the flake and the running system are as they were");

  const target = new LocalTarget();
  const sh = async (what: string, command: string, timeoutMs: number) => {
    const r = await target.run(command, { timeoutMs, signal: ctx.signal });
    ctx.log.write(`lockdown --local: ${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    return r;
  };
  const nixPath = join(f.hostDir, "lockdown.nix");
  const nixBefore = existsSync(nixPath) ? readFileSync(nixPath, "utf8") : null;
  const restoreFlake = () => {
    restoreHostFile({ path: f.hostJsonPath }, f.originalText);
    if (nixBefore === null) rmSync(nixPath, { force: true });
    else writeAtomic(nixPath, nixBefore);
  };

  writeHostData(f, final);
  await stageInFlakeGit(f.flakeDir, [relative(f.flakeDir, f.hostDir)], (m, h) => ctx.out.warn(m, h));
  ctx.out.step("lockdown", "start", `building ${f.hostname}'s locked-down system from ${f.flakeDir}`);
  const ref = `path:${f.flakeDir}#nixosConfigurations.${f.hostname}.config.system.build.toplevel`;
  const built = await sh(
    "nix build",
    `nix --extra-experimental-features 'nix-command flakes' build --no-link --print-out-paths ${shellQuote(ref)}`,
    1_800_000,
  );
  const toplevel = built.stdout.trim().split("\n").pop() ?? "";
  if (built.code !== 0 || !/^\/nix\/store\/[A-Za-z0-9._+-]+$/.test(toplevel)) {
    restoreFlake();
    throw new OperationError(
      "the locked-down system does not build: nothing was activated and the flake is as before",
      {
        details: built.stderr.trim().split("\n").slice(-12),
        hint: `fix what Nix reports in ${f.flakeDir}, then run lockdown --local again`,
      },
    );
  }
  const previous = (await sh("profile", `readlink -f ${SYSTEM_PROFILE}`, 10_000)).stdout.trim() || null;

  ctx.out.step("lockdown", "start", "activating it (switch-to-configuration switch)");
  const sw = await sh(
    "switch",
    `nix-env -p ${SYSTEM_PROFILE} --set ${shellQuote(toplevel)} && ${shellQuote(`${toplevel}/bin/switch-to-configuration`)} switch`,
    600_000,
  );
  if (sw.code !== 0) {
    let back = "the previous generation could not be found";
    if (previous && /^\/nix\/store\/[A-Za-z0-9._+-]+$/.test(previous)) {
      const r = await sh(
        "rollback",
        `nix-env -p ${SYSTEM_PROFILE} --set ${shellQuote(previous)} && ${shellQuote(`${previous}/bin/switch-to-configuration`)} switch`,
        600_000,
      );
      back = r.code === 0 ? "the previous configuration is active again" : "rolling back failed too";
    }
    restoreFlake();
    throw new OperationError(`activating the locked-down system failed; ${back} and the flake is as before`, {
      details: (sw.stderr.trim() || sw.stdout.trim()).split("\n").slice(-12),
      hint: `see the units that failed (journalctl -b), fix the flake, run lockdown --local again; or go back by hand: nixos-rebuild --rollback switch`,
    });
  }
  const generation =
    Number(/system-(\d+)-link/.exec((await sh("gen", `readlink ${SYSTEM_PROFILE}`, 10_000)).stdout)?.[1]) || null;

  const addresses = parseAddresses((await sh("addresses", "ip -o addr show scope global", 10_000)).stdout);
  const pub = (await sh("host key", "cat /etc/ssh/ssh_host_ed25519_key.pub", 10_000)).stdout.trim().split(/\s+/);
  const blob = Buffer.from(pub[1] ?? "", "base64");
  const presented = blob.length ? fingerprintSha256(blob) : null;
  if (presented !== prepared.pinned)
    ctx.out.warn(
      `this machine's host key (${presented ?? "none found"}) is not the one pinned in ${f.file} (${prepared.pinned})`,
      "the lockdown from your own machine would refuse it: check /etc/ssh/ssh_host_ed25519_key and the flake",
    );
  const knownHostsLine =
    presented === prepared.pinned && addresses.length
      ? `${addresses.map((a) => `[${a}]:${prepared.port}`).join(",")} ${pub[0]} ${pub[1]}`
      : null;
  writeLockdownState(f.flakeDir, f.hostname, {
    stage: "final",
    port: prepared.port,
    generations: { before: null, dualPort: null, final: generation },
    confirmedAt: new Date().toISOString(),
    operatorAddress: null,
    local: true,
  });
  const login = addresses[0]
    ? `ssh -p ${prepared.port} root@${addresses[0]}`
    : `ssh -p ${prepared.port} root@<address>`;
  const summary = [
    `Locked down at the console: ${f.hostname} now answers SSH on port ${prepared.port} only, with keys only; port 22 is closed (generation ${generation ?? "?"}).`,
    `The flake in ${f.flakeDir} says so (${f.file}, lockdown.nix).`,
    knownHostsLine
      ? `On your own machine, add this line to ~/.ssh/known_hosts, then log in with ${login}:\n  ${knownHostsLine}`
      : `Log in from your own machine with ${login}.`,
    `To undo it here: nixos-rebuild --rollback switch (or nix-env -p ${SYSTEM_PROFILE} --rollback, then the profile's bin/switch-to-configuration switch).`,
  ].join("\n");
  const result: LocalLockdownResult = {
    summary,
    local: true,
    hostName: f.hostname,
    flakeDir: f.flakeDir,
    port: prepared.port,
    toplevel,
    generation,
    previousToplevel: previous,
    addresses,
    hostKeyFingerprint: prepared.pinned,
    knownHostsLine,
  };
  ctx.out.result(summary, result);
  return 0;
}

/** Refuses anywhere but an installed NixOS: the installer (RAM) or another Linux has nothing to lock down. */
function refuseUnlessInstalledNixos(): void {
  let text = "";
  try {
    text = readFileSync("/etc/os-release", "utf8");
  } catch {
    // no os-release: treated as "not NixOS" below
  }
  const field = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, "m").exec(text)?.[1] ?? "";
  if (field("ID") !== "nixos")
    throw new UserError(
      `--local: this machine runs ${field("PRETTY_NAME") || "an unknown OS"}, not an installed NixOS`,
      {
        field: "--local",
        hint: "run lockdown --local at the console of the node install --local set up, or lock a node down over SSH: nixnode-install lockdown root@ADDRESS --flake DIR",
      },
    );
  if (field("VARIANT_ID") === "installer")
    throw new UserError("--local: this is the NixOS installer, not the installed system", {
      field: "--local",
      hint: "reboot into the installed system (remove the USB stick), log in at its console as root, then run lockdown --local",
    });
}

/** "2: eth0    inet 192.0.2.7/24 brd ..." -> ["192.0.2.7"] (IPv4 first, then IPv6). */
export function parseAddresses(ipOutput: string): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const line of ipOutput.split("\n")) {
    const m = /\sinet(6?)\s+([0-9a-fA-F.:]+)\//.exec(line);
    if (m) (m[1] ? v6 : v4).push(m[2]!);
  }
  return [...v4, ...v6];
}
