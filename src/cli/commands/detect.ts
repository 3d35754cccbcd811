// `nixnode-install detect [user@]host[:port]`: one login, one probe, a readable report and the
// preflight verdict. It changes nothing, so it exits 0 even when the verdict is "cannot install":
// the verdict is the answer. Exit 2/3 only when the probe itself could not be done.
import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { detectFacts } from "../../detect/detect";
import { formatFacts } from "../../detect/format-facts";
import { formatVerdict, preflight } from "../../detect/preflight";
import { UserError } from "../../errors";
import { SSH_CLI_OPTIONS, connectFromCli, sshFlagsForNext } from "../target-options";
import { LocalTarget } from "../../remote/local-target";
import type { Target } from "../../remote/types";
import type { Command } from "../command";

const command: Command = {
  name: "detect",
  summary: "probe a target over SSH and print its facts and the preflight verdict",
  usage: "nixnode-install detect [user@]host[:port] [--json] [--save FILE]   |   nixnode-install detect --local",
  description: `
Logs in once, runs one read-only probe (POSIX sh) and prints what an install would be based on:
OS, architecture, virtualisation, firmware (UEFI/BIOS, Secure Boot, lockdown), RAM, disks with
their stable /dev/disk/by-id names, addresses, gateways (on-link or not), DNS, provider, and your
address as the server sees it. Then the preflight verdict: what would stop an install, and the fix.

Nothing is changed on the target. The exit code is 0 whenever the probe ran, also when the verdict
says the machine cannot be installed (read the verdict); 2 for bad input, 3 when the target could
not be reached or probed.

Examples:
  nixnode-install detect root@203.0.113.7
  nixnode-install detect admin@node.example.org:2222 --json
  nixnode-install detect root@203.0.113.7 --save facts.json   # then: nixnode-install plan --facts facts.json
  nixnode-install detect --local                                # on a NixOS installer, about this machine`,
  options: {
    ...SSH_CLI_OPTIONS,
    local: {
      type: "boolean",
      help: "probe this machine instead of a remote one (e.g. booted from the NixOS installer)",
    },
    save: {
      type: "string",
      path: "file-out",
      value: "FILE",
      help: "also write the facts as JSON to FILE (input for plan --facts)",
    },
  },
  maxArgs: 1,
  async run(ctx) {
    const local = ctx.options.local === true;
    const destination = ctx.args[0];
    if (local && destination)
      throw new UserError(`--local and a target "${destination}" were both given`, {
        field: "--local",
        hint: "either probe this machine (--local) or a remote one (user@host)",
      });
    if (!local && !destination)
      throw new UserError("target: missing", {
        field: "target",
        hint: "usage: nixnode-install detect root@203.0.113.7 (or --local for this machine)",
      });
    const save = typeof ctx.options.save === "string" ? resolve(ctx.cwd, ctx.options.save) : null;
    // Bad input is refused before the first packet goes out.
    if (save && !existsSync(dirname(save)))
      throw new UserError(`--save: the folder ${dirname(save)} does not exist`, {
        field: "--save",
        hint: "create it first, or give a path in an existing folder",
      });
    if (save && existsSync(save) && statSync(save).isDirectory())
      throw new UserError(`--save: ${save} is a folder`, {
        field: "--save",
        hint: "give a file path such as ./facts.json",
      });

    const target: Target = local ? new LocalTarget() : await connectFromCli(ctx, destination!);
    const started = Date.now();
    let facts;
    try {
      ctx.out.step("detect", "start", `Probing ${target.description}…`);
      facts = await detectFacts(target, { signal: ctx.signal, log: ctx.log });
      ctx.out.step("detect", "done", `Probed ${target.description}`, { elapsedMs: Date.now() - started });
    } finally {
      await target.close();
    }
    const verdict = preflight(facts, { local });
    if (save) {
      await writeFile(save, JSON.stringify(facts, null, 2) + "\n", { mode: 0o644 }).catch(
        (e: NodeJS.ErrnoException) => {
          throw new UserError(`--save: cannot write ${save} (${e.code ?? e.message})`, {
            field: "--save",
            hint: "give a writable file path",
          });
        },
      );
    }
    const next = verdict.ok
      ? `Next: nixnode-install plan ${local ? "--local" : `${destination}${sshFlagsForNext(ctx)}`} --out ./my-node   (asks a few questions, writes a flake, touches nothing)`
      : "Nothing was changed. Fix what preflight reports, then run detect again.";
    ctx.out.result(
      [
        ...formatFacts(facts),
        "",
        ...formatVerdict(verdict),
        "",
        ...(save ? [`Facts written to ${save}`] : []),
        next,
      ].join("\n"),
      { facts, verdict, saved: save },
    );
    return 0;
  },
};
export default command;
