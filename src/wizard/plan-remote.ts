// `nixnode-install plan root@host --out DIR`: connect, detect (one probe), refuse early if the
// machine cannot be installed, ask what the facts and --config leave open, then write the flake.
// The SSH session is closed before the first question: nothing runs on the target while the
// operator thinks, and Ctrl-C at any question leaves the target exactly as it was.
import { readSshKeyArgs } from "../cli/ssh-key-args";
import { generateDeclaredSecrets } from "../secrets/store";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { CommandContext } from "../cli/command";
import { detectFacts } from "../detect/detect";
import { formatVerdict, preflight } from "../detect/preflight";
import { UserError } from "../errors";
import { describeDiskLayout } from "../generate/disk-config";
import { renderFlake } from "../generate/render-flake";
import { checkOutDir, writeFlake } from "../generate/write-flake";
import { refuseUninstallable } from "../plan/build-plan";
import { loadConfigFile, parseAuthorizedKeys, type PartialConfig } from "../plan/config";
import { planFromFacts } from "../plan/index";
import { connectFromCli } from "../cli/target-options";
import { askAnswers } from "./ask-answers";
import { findOperatorKeys, systemKeySources } from "./operator-keys";
import { createPrompter } from "./prompter";

export async function planRemote(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const destination = ctx.args[0]!;
  const out = typeof o.out === "string" ? o.out : undefined;
  const dryRun = o["dry-run"] === true;
  // Everything local is checked before the first packet goes to the target.
  for (const flag of ["facts", "example"] as const) {
    if (o[flag] !== undefined)
      throw new UserError(`--${flag} and a target "${destination}" were both given`, {
        field: `--${flag}`,
        hint: "plan either from a live target (user@host) or from --facts/--example",
      });
  }
  if (out === undefined && !dryRun)
    throw new UserError("--out: missing; where should the flake go?", {
      field: "--out",
      hint: `nixnode-install plan ${destination} --out ./my-node (a new or empty folder)`,
    });
  if (out !== undefined && out.trim() === "")
    throw new UserError("--out: is empty", { field: "--out", hint: "give a folder path such as ./my-node" });
  const partial: PartialConfig = typeof o.config === "string" ? await loadConfigFile(resolve(ctx.cwd, o.config)) : {};
  const keys = await readSshKeyArgs(ctx, o["ssh-key"]);
  if (keys.length)
    partial.ssh = {
      ...partial.ssh,
      authorizedKeys: parseAuthorizedKeys([...(partial.ssh?.authorizedKeys ?? []), ...keys], "ssh.authorizedKeys"),
    };
  if (out !== undefined) await checkOutDir(resolve(ctx.cwd, out), o.force === true);
  const interactive = ctx.out.interactive && o.yes !== true && o.config === undefined;

  const target = await connectFromCli(ctx, destination);
  let facts;
  try {
    const started = Date.now();
    ctx.out.step("detect", "start", `Probing ${target.description}…`);
    facts = await detectFacts(target, { signal: ctx.signal, log: ctx.log });
    ctx.out.step(
      "detect",
      "done",
      `Probed ${target.description}: ${facts.os.prettyName ?? facts.os.id ?? "unknown OS"}, ${facts.arch}, ${facts.disks.length} disk(s)`,
      { elapsedMs: Date.now() - started },
    );
  } finally {
    await target.close();
  }
  const verdict = preflight(facts);
  if (!verdict.ok) ctx.out.text(formatVerdict(verdict).join("\n"));
  refuseUninstallable(facts); // a refusal before any question is asked

  const notes: string[] = [];
  const keysFound =
    interactive && partial.ssh?.authorizedKeys === undefined ? await findOperatorKeys(systemKeySources(ctx.env)) : [];
  const config = await askAnswers({
    facts,
    partial,
    prompter: createPrompter({ stdin: ctx.stdin, stdout: process.stdout }),
    interactive,
    keysFound,
    notes,
  });

  const plan = planFromFacts({ facts, config, outDir: out, interactive: false });
  const files = renderFlake(plan);
  const diskLines = describeDiskLayout(plan.disk);
  const next = [
    `review ${out ?? "DIR"}/hosts/${plan.config.hostname}/disk-config.nix: the install ERASES the disks listed there`,
    `install: nixnode-install ${destination} --config ${out ?? "DIR"}/nixnode.json`,
  ];
  const summary = {
    hostname: plan.config.hostname,
    profile: plan.config.profile,
    layout: plan.config.disk.layout,
    devices: plan.config.disk.devices,
    sshPort: plan.config.ssh.port,
    disk: diskLines,
    notes: [...notes, ...plan.notes],
    files: Object.keys(files),
    dryRun,
    outDir: out ? resolve(ctx.cwd, out) : null,
    next,
  };
  let where = "(dry run, nothing written)";
  if (!dryRun) {
    const written = await writeFlake(files, resolve(ctx.cwd, out!), {
      force: o.force === true,
      warn: (m, h) => ctx.out.warn(m, h),
    });
    ctx.log.write(`plan: wrote ${written.files.length} files to ${written.dir} (git: ${written.git})`);
    const secrets = await generateDeclaredSecrets(written.dir, plan.config.profile, plan.config.ssh.authorizedKeys);
    if (secrets) summary.notes.push(secrets);
    where = `in ${out}`;
  }
  const human = [
    `Planned node ${plan.config.hostname} ${where}: profile ${plan.config.profile}, NixOS ${plan.config.nixos}, ${plan.config.disk.layout}`,
    "",
    "Disks:",
    ...diskLines.map((l) => `  ${l}`),
    "",
    `SSH: port 22 until lockdown, then ${plan.config.ssh.port}; ${plan.config.ssh.authorizedKeys.length} operator key(s); fail2ban ignores ${plan.config.fail2ban.ignoreIP.join(", ") || "nobody"}`,
    ...(summary.notes.length ? ["", "Notes:", ...summary.notes.map((n) => `  - ${n}`)] : []),
    "",
    `${dryRun ? "Files it would write" : "Files"}: ${Object.keys(files).length} (${Object.keys(files).slice(0, 4).join(", ")}, …)`,
    "",
    "Next:",
    ...next.map((s) => `  - ${s}`),
  ];
  ctx.out.result(human.join("\n"), summary);
  return 0;
}
