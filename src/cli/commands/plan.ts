// `nixnode-install plan`: facts (a file, a bundled example, or a live target via the wizard) +
// answers -> a flake folder. Offline unless a host is given. Every input is validated before the
// first file is written; --dry-run writes nothing and shows what would be.
import { readSshKeyArgs } from "../ssh-key-args";
import { generateDeclaredSecrets } from "../../secrets/store";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { UserError } from "../../errors";
import { loadExample } from "../../facts/examples";
import { loadFactsFile } from "../../facts/load";
import type { Facts } from "../../facts/types";
import { describeDiskLayout } from "../../generate/disk-config";
import { renderFlake } from "../../generate/render-flake";
import { checkOutDir, writeFlake } from "../../generate/write-flake";
import { loadConfigFile, parseAuthorizedKeys, type PartialConfig } from "../../plan/config";
import { planFromFacts } from "../../plan/index";
import type { InstallPlan } from "../../plan/types";
import { SSH_CLI_OPTIONS } from "../target-options";
import type { Command, CommandContext } from "../command";

const command: Command = {
  name: "plan",
  summary: "generate a node flake from a target, a facts file or a bundled example (offline)",
  usage:
    "nixnode-install plan (--facts FILE | --example NAME | [user@]host[:port]) [--config FILE] --out DIR [--dry-run] [--force]",
  description: `
Reads the machine's facts (the JSON of \`detect --json\`, a nixos-facter report, or a bundled
example), merges your answers (--config nixnode.json, --ssh-key) with defaults taken from the facts,
and writes a flake folder you own: flake.nix, hosts/<host>/{default.nix, disk-config.nix, boot.nix,
hardware.nix | facter.json, network.nix, nixnode.nix, host.json}, nixnode.json, keys/, README.md.
Nothing on any machine is changed. A folder that is not empty is refused unless --force.

Examples:
  nixnode-install plan --example hetzner-cloud --ssh-key ~/.ssh/id_ed25519.pub --out ./my-node
  nixnode-install plan --facts facter.json --config nixnode.json --out ./my-node --dry-run
  nixnode-install plan root@203.0.113.7 --out ./my-node      (asks what the facts cannot answer)`,
  options: {
    facts: {
      type: "string",
      value: "FILE",
      help: "facts of the machine: `detect --json` output or a nixos-facter report",
    },
    example: {
      type: "string",
      value: "NAME",
      help: "a bundled example machine (hetzner-cloud, hetzner-dedicated, netcup-vps, ...)",
    },
    config: { type: "string", value: "FILE", help: "answers (nixnode.json); see docs/config.md" },
    "ssh-key": {
      type: "string",
      multiple: true,
      value: "KEY",
      help: "an operator public key: a .pub file or the key line itself (repeatable)",
    },
    out: { type: "string", short: "o", value: "DIR", help: "where to write the flake (a new or empty folder)" },
    "dry-run": { type: "boolean", help: "show the files and the disk layout, write nothing" },
    force: { type: "boolean", help: "write into a folder that is not empty (generated files are replaced)" },
    yes: { type: "boolean", short: "y", help: "never ask; a missing answer is an error that names it" },
    // only with a host (remote planning): how to log in
    ...SSH_CLI_OPTIONS,
  },
  maxArgs: 1,
  async run(ctx) {
    if (ctx.args.length > 0) return (await import("../../wizard/plan-remote")).planRemote(ctx);
    return planOffline(ctx);
  },
};
export default command;

async function planOffline(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const factsPath = typeof o.facts === "string" ? o.facts : undefined;
  const example = typeof o.example === "string" ? o.example : undefined;
  const out = typeof o.out === "string" ? o.out : undefined;
  const dryRun = o["dry-run"] === true;
  if (factsPath !== undefined && example !== undefined)
    throw new UserError("--facts and --example: give only one of them", {
      field: "--example",
      hint: "--facts for a real machine, --example to try a bundled one",
    });
  if (factsPath === undefined && example === undefined) {
    throw new UserError("--facts: no machine to plan for", {
      field: "--facts",
      hint: "give --facts FILE (from `nixnode-install detect root@HOST --json` or nixos-facter), --example NAME, or a host: nixnode-install plan root@HOST --out DIR",
    });
  }
  if (out === undefined && !dryRun)
    throw new UserError("--out: missing; where should the flake go?", {
      field: "--out",
      hint: "add --out ./my-node (a new or empty folder), or --dry-run to only look",
    });
  if (out !== undefined && out.trim() === "")
    throw new UserError("--out: is empty", { field: "--out", hint: "give a folder path such as ./my-node" });

  const sshFlags = Object.keys(SSH_CLI_OPTIONS).filter((k) => o[k] !== undefined);
  if (sshFlags.length)
    ctx.out.warn(
      `${sshFlags.map((k) => `--${k}`).join(", ")}: ignored, no host to log in to`,
      "these flags are for planning from a live machine: nixnode-install plan root@HOST ...",
    );

  // Everything is read and validated before anything is written.
  const loaded =
    factsPath !== undefined
      ? await withFactsHint(loadFactsFile(resolve(ctx.cwd, factsPath)))
      : { facts: loadExample(example!), facterReport: null };
  const partial: PartialConfig = typeof o.config === "string" ? await loadConfigFile(resolve(ctx.cwd, o.config)) : {};
  const extraKeys = await readSshKeyArgs(ctx, o["ssh-key"]);
  if (extraKeys.length)
    partial.ssh = {
      ...partial.ssh,
      authorizedKeys: parseAuthorizedKeys([...(partial.ssh?.authorizedKeys ?? []), ...extraKeys], "ssh.authorizedKeys"),
    };
  const exampleWithoutKey = example !== undefined && !partial.ssh?.authorizedKeys?.length;
  if (out !== undefined) await checkOutDir(resolve(ctx.cwd, out), o.force === true);

  const plan = planFromFacts({
    facts: loaded.facts,
    facterReport: loaded.facterReport ?? undefined,
    config: partial,
    outDir: out,
    interactive: false,
    allowNoKeys: exampleWithoutKey,
  });
  const files = renderFlake(plan);
  const diskLines = describeDiskLayout(plan.disk);
  const next = nextSteps(plan, out, example);
  const summary = {
    hostname: plan.config.hostname,
    profile: plan.config.profile,
    nixos: plan.config.nixos,
    layout: plan.config.disk.layout,
    disk: diskLines,
    network: plan.network,
    sshPort: plan.config.ssh.port,
    notes: plan.notes,
    files: Object.keys(files),
    dryRun,
    outDir: out ? resolve(ctx.cwd, out) : null,
    next,
  };

  if (dryRun) {
    ctx.out.result(humanSummary(plan, diskLines, files, out, true, next, loaded.facts), summary);
    return 0;
  }
  const written = await writeFlake(files, resolve(ctx.cwd, out!), {
    force: o.force === true,
    warn: (m, h) => ctx.out.warn(m, h),
  });
  ctx.log.write(`plan: wrote ${written.files.length} files to ${written.dir} (git: ${written.git})`);
  const secrets = await generateDeclaredSecrets(written.dir, plan.config.profile, plan.config.ssh.authorizedKeys);
  if (secrets) plan.notes.push(secrets);
  ctx.out.result(humanSummary(plan, diskLines, files, out, false, next, loaded.facts), {
    ...summary,
    git: written.git,
    secrets,
  });
  return 0;
}

/** A facts file with a bad field: say how to get a good one. */
async function withFactsHint<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof UserError && !e.hint)
      throw new UserError(e.message, {
        field: e.field,
        hint: "write it again with `nixnode-install detect root@HOST --json > facts.json`, or use a nixos-facter report",
        cause: e.cause,
      });
    throw e;
  }
}

function nextSteps(plan: InstallPlan, out: string | undefined, example: string | undefined): string[] {
  const dir = out ?? "DIR";
  const steps = [
    `review ${dir}/hosts/${plan.config.hostname}/disk-config.nix: the install ERASES the disks listed there`,
  ];
  if (example !== undefined) {
    steps.push(
      `this flake is for the bundled example machine "${example}"; plan your own: nixnode-install plan root@YOUR-HOST --out ./my-node`,
    );
    if (plan.config.ssh.authorizedKeys.length === 0)
      steps.push(
        "no operator key was given (--ssh-key or ssh.authorizedKeys): the install refuses this flake until one is added",
      );
  } else {
    steps.push(`install: nixnode-install root@HOST --config ${dir}/nixnode.json`);
  }
  steps.push(`keep ${dir} in git: cd ${dir} && git commit -m "plan ${plan.config.hostname}"`);
  return steps;
}

function humanSummary(
  plan: InstallPlan,
  diskLines: string[],
  files: Record<string, string>,
  out: string | undefined,
  dryRun: boolean,
  next: string[],
  facts: Facts,
): string {
  const c = plan.config;
  const lines = [
    `${dryRun ? "Plan (dry run, nothing written)" : `Planned node ${c.hostname} in ${out}`}: profile ${c.profile}, NixOS ${c.nixos}, ${c.disk.layout} layout, ${facts.arch}${facts.provider.hint ? `, ${facts.provider.hint}` : ""}`,
    "",
    "Disks:",
    ...diskLines.map((l) => `  ${l}`),
    "",
    "Network after install:",
    ...plan.network.interfaces.map(
      (i) =>
        `  ${i.name} (${i.mac}): ${[i.dhcp4 ? "DHCPv4" : "", ...i.addresses, ...i.routes.map((r) => `${r.destination} via ${r.gateway}${r.onLink ? " on-link" : ""}`), i.ipv6AcceptRA ? "IPv6 RA" : ""].filter(Boolean).join(", ")}`,
    ),
    ...(plan.network.dns.length ? [`  DNS: ${plan.network.dns.join(", ")}`] : []),
    "",
    `SSH: port 22 until lockdown, then ${c.ssh.port}; ${c.ssh.authorizedKeys.length} operator key(s); fail2ban ${c.fail2ban.enable ? "on" : "off"}`,
  ];
  if (plan.notes.length) lines.push("", "Notes:", ...plan.notes.map((n) => `  - ${n}`));
  lines.push("", dryRun ? "Files it would write:" : "Files:", ...Object.keys(files).map((f) => `  ${f}`));
  lines.push("", "Next:", ...next.map((s) => `  - ${s}`));
  return lines.join("\n");
}
