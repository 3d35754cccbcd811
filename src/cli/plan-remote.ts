// `nixnode-install plan root@host --out DIR`: connect, detect (one probe), refuse early if the
// machine cannot be installed, ask what the facts and --config leave open, then write the flake.
// The SSH session is closed before the first question: nothing runs on the target while the
// operator thinks, and Ctrl-C at any question leaves the target exactly as it was.
import { resolve } from "node:path";
import { detectFacts } from "../detect/detect";
import { formatVerdict, preflight } from "../detect/preflight";
import { UserError } from "../errors";
import { writeNodeFlake } from "../generate/write-node-flake";
import { refuseUninstallable } from "../plan/build-plan";
import { loadConfigFile, type PartialConfig } from "../plan/config";
import { planFromFacts } from "../plan/index";
import { askAnswers } from "../wizard/ask-answers";
import { findOperatorKeys, systemKeySources } from "../wizard/operator-keys";
import type { CommandContext } from "./command";
import { reportPlan } from "./plan-report";
import { readSshKeyArgs } from "./ssh-key-args";
import { connectFromCli } from "./target-options";

export async function planRemote(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const destination = ctx.args[0]!;
  const out = typeof o.out === "string" ? o.out : undefined;
  // Everything local is checked before the first packet goes to the target.
  for (const flag of ["facts", "example"] as const) {
    if (o[flag] !== undefined)
      throw new UserError(`--${flag} and a target "${destination}" were both given`, {
        field: `--${flag}`,
        hint: "plan either from a live target (user@host) or from --facts/--example",
      });
  }
  const partial: PartialConfig = typeof o.config === "string" ? await loadConfigFile(resolve(ctx.cwd, o.config)) : {};
  const extraKeys = await readSshKeyArgs(ctx, o["ssh-key"]);
  const interactive = ctx.prompter.interactive && o.yes !== true && o.config === undefined;
  const notes: string[] = [];

  const result = await writeNodeFlake(
    {
      out,
      cwd: ctx.cwd,
      force: o.force === true,
      dryRun: o["dry-run"] === true,
      partial,
      extraKeys,
      outHint: `nixnode-install plan ${destination} --out ./my-node (a new or empty folder)`,
    },
    async (answers) => {
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
      const keysFound =
        interactive && answers.ssh?.authorizedKeys === undefined
          ? await findOperatorKeys(
              systemKeySources(
                ctx.env,
                undefined,
                ((o.identity as string[] | undefined) ?? []).map((f) => resolve(ctx.cwd, f)),
              ),
            )
          : [];
      const config = await askAnswers({
        facts,
        partial: answers,
        prompter: ctx.prompter,
        interactive,
        keysFound,
        notes,
      });
      return planFromFacts({ facts, config, outDir: out, interactive: false });
    },
    { warn: (m, h) => ctx.out.warn(m, h), log: (l) => ctx.log.write(l), signal: ctx.signal },
  );
  reportPlan(ctx, { result, out, destination, notes });
  return 0;
}
