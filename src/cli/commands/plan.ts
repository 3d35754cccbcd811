// `nixnode-install plan`: facts (a file, a bundled example, or a live target via the wizard) +
// answers -> a flake folder. Offline unless a host is given. Every input is validated before the
// first file is written; --dry-run writes nothing and shows what would be.
import { resolve } from "node:path";
import { UserError } from "../../errors";
import { loadExample } from "../../facts/examples";
import { loadFactsFile } from "../../facts/load";
import { writeNodeFlake } from "../../generate/write-node-flake";
import { loadConfigFile, type PartialConfig } from "../../plan/config";
import { planFromFacts } from "../../plan/index";
import { reportPlan } from "../plan-report";
import { readSshKeyArgs } from "../ssh-key-args";
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
    config: { type: "string", path: "file-in", value: "FILE", help: "answers (nixnode.json); see docs/config.md" },
    "ssh-key": {
      type: "string",
      multiple: true,
      value: "KEY",
      help: "an operator public key: a .pub file or the key line itself (repeatable)",
    },
    out: {
      type: "string",
      short: "o",
      path: "dir-out",
      value: "DIR",
      help: "where to write the flake (a new or empty folder)",
    },
    "dry-run": { type: "boolean", help: "show the files and the disk layout, write nothing" },
    force: { type: "boolean", help: "write into a folder that is not empty (generated files are replaced)" },
    yes: { type: "boolean", short: "y", help: "never ask; a missing answer is an error that names it" },
    // only with a host (remote planning): how to log in
    ...SSH_CLI_OPTIONS,
  },
  maxArgs: 1,
  async run(ctx) {
    if (ctx.args.length > 0) return (await import("../plan-remote")).planRemote(ctx);
    return planOffline(ctx);
  },
};
export default command;

async function planOffline(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const factsPath = typeof o.facts === "string" ? o.facts : undefined;
  const example = typeof o.example === "string" ? o.example : undefined;
  const out = typeof o.out === "string" ? o.out : undefined;
  if (factsPath !== undefined && example !== undefined)
    throw new UserError("--facts and --example: give only one of them", {
      field: "--example",
      hint: "--facts for a real machine, --example to try a bundled one",
    });
  if (factsPath === undefined && example === undefined) {
    throw new UserError("--facts: no machine to plan for", {
      field: "--facts",
      hint: "give --facts FILE (from `nixnode-install detect root@HOST --json > facts.json` or nixos-facter), --example NAME, or a host: nixnode-install plan root@HOST --out DIR",
    });
  }
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
  const result = await writeNodeFlake(
    { out, cwd: ctx.cwd, force: o.force === true, dryRun: o["dry-run"] === true, partial, extraKeys },
    (answers) =>
      planFromFacts({
        facts: loaded.facts,
        facterReport: loaded.facterReport ?? undefined,
        config: answers,
        outDir: out,
        interactive: false,
        allowNoKeys: example !== undefined && !answers.ssh?.authorizedKeys?.length,
      }),
    { warn: (m, h) => ctx.out.warn(m, h), log: (l) => ctx.log.write(l), signal: ctx.signal },
  );
  reportPlan(ctx, { result, out, destination: null, example });
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
