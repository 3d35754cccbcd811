// What `plan` prints when it is done, offline or from a live host: the plan in words, the files,
// and the ONE next step, which installs the flake just written and reviewed (never a second plan).
import { isAbsolute, relative } from "node:path";
import { describeDiskLayout } from "../generate/disk-config";
import type { NodeFlakeResult } from "../generate/write-node-flake";
import type { InstallPlan } from "../plan/types";
import { shellQuote } from "../util/shell-quote";
import type { CommandContext } from "./command";

export interface PlanReportInput {
  result: NodeFlakeResult;
  /** The folder as the operator wrote it (for the commands shown). */
  out: string | undefined;
  /** The host the plan was made from (plan root@host), or null offline. */
  destination: string | null;
  /** The bundled example planned for, if any. */
  example?: string;
  /** Chosen without asking, from the wizard. */
  notes?: string[];
}

/** The folder as a shell word: relative to where the operator is when it lies below, absolute otherwise. */
function folderArg(ctx: CommandContext, r: NodeFlakeResult, out: string | undefined): string {
  if (!r.dir) return out ?? "DIR";
  const rel = relative(ctx.cwd, r.dir);
  const shown = rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? r.dir : `./${rel}`;
  return word(shown);
}

function word(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,[\]-]+$/.test(s) ? s : shellQuote(s);
}

export function planNextSteps(ctx: CommandContext, i: PlanReportInput): string[] {
  const plan = i.result.plan;
  const dir = folderArg(ctx, i.result, i.out);
  const steps = [
    `review ${dir}/hosts/${plan.config.hostname}/disk-config.nix: the install ERASES the disks listed there`,
  ];
  if (i.example !== undefined) {
    steps.push(
      `this flake is for the bundled example machine "${i.example}"; plan your own: nixnode-install plan root@YOUR-HOST --out ./my-node`,
    );
    if (plan.config.ssh.authorizedKeys.length === 0)
      steps.push(
        "no operator key was given (--ssh-key or ssh.authorizedKeys): the install refuses this flake until one is added",
      );
    return steps;
  }
  if (!i.result.written) {
    steps.push("write it: run the same command without --dry-run (and with --out DIR)");
    return steps;
  }
  steps.push(`install this flake: nixnode-install ${i.destination ? word(i.destination) : "root@HOST"} --flake ${dir}`);
  steps.push(`keep ${dir} in git: cd ${dir} && git commit -m "plan ${plan.config.hostname}"`);
  return steps;
}

function networkLines(plan: InstallPlan): string[] {
  return [
    ...plan.network.interfaces.map(
      (i) =>
        `  ${i.name} (${i.mac}): ${[i.dhcp4 ? "DHCPv4" : "", ...i.addresses, ...i.routes.map((r) => `${r.destination} via ${r.gateway}${r.onLink ? " on-link" : ""}`), i.ipv6AcceptRA ? "IPv6 RA" : ""].filter(Boolean).join(", ")}`,
    ),
    ...(plan.network.dns.length ? [`  DNS: ${plan.network.dns.join(", ")}`] : []),
  ];
}

/** Prints the plan (text, or one "result" event with --json). */
export function reportPlan(ctx: CommandContext, i: PlanReportInput): void {
  const { plan, files, written } = i.result;
  const c = plan.config;
  const diskLines = describeDiskLayout(plan.disk);
  const notes = [...(i.notes ?? []), ...plan.notes, ...(i.result.secrets ? [i.result.secrets] : [])];
  const next = planNextSteps(ctx, i);
  const facts = plan.facts;
  const lines = [
    `Planned node ${c.hostname} ${written ? `in ${i.out}` : "(dry run, nothing written)"}: profile ${c.profile}, NixOS ${c.nixos}, ${c.disk.layout} layout, ${facts.arch}${facts.provider.hint ? `, ${facts.provider.hint}` : ""}`,
    "",
    "Disks:",
    ...diskLines.map((l) => `  ${l}`),
    "",
    "Network after install:",
    ...networkLines(plan),
    "",
    `SSH: port 22 until lockdown, then ${c.ssh.port}; ${c.ssh.authorizedKeys.length} operator key(s); fail2ban ${c.fail2ban.enable ? `on, ignores ${c.fail2ban.ignoreIP.join(", ") || "nobody"}` : "off"}`,
  ];
  if (notes.length) lines.push("", "Notes:", ...notes.map((n) => `  - ${n}`));
  lines.push("", written ? "Files:" : "Files it would write:", ...Object.keys(files).map((f) => `  ${f}`));
  lines.push("", "Next:", ...next.map((s) => `  - ${s}`));
  ctx.out.result(lines.join("\n"), {
    hostname: c.hostname,
    profile: c.profile,
    nixos: c.nixos,
    layout: c.disk.layout,
    devices: c.disk.devices,
    disk: diskLines,
    network: plan.network,
    sshPort: c.ssh.port,
    notes,
    files: Object.keys(files),
    dryRun: !written,
    outDir: i.result.dir,
    git: i.result.git,
    secrets: i.result.secrets,
    next,
  });
}
