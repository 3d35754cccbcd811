// `nixnode-install check [--flake DIR] [user@host]`: does the flake's system evaluate? The same
// `nix eval ...toplevel.drvPath` the install runs before touching a disk, so an operator can check an
// edited flake before any install or switch. Locally when Nix is here; with a host, on that NixOS
// machine over the tool's own SSH connection (the flake is copied to a temporary folder there and
// removed). Exit 0: it evaluates; 3: Nix's error; 2: bad input (no flake, not a nixnode flake, no Nix).
import { join, resolve } from "node:path";
import { OperationError, UserError } from "../../errors";
import { locateHostFile } from "../../flake/host-file";
import { evalSystemCommand, nixErrorLines, tarFlake } from "../../install/engine-builtin";
import { evalSystemLocally } from "../../install/kexec-preflight";
import { shellQuote } from "../../util/shell-quote";
import type { Command } from "../command";
import { SSH_CLI_OPTIONS, connectFromCli } from "../target-options";
import { which } from "../../util/which";

const command: Command = {
  name: "check",
  summary: "evaluate a node flake's system with Nix (here, or on a NixOS host) before installing or switching",
  usage: "nixnode-install check [--flake DIR] [--host NAME] [user@host]",
  description: `
Evaluates nixosConfigurations.<host>.config.system.build.toplevel (nix eval of its .drv path: nothing
is built, nothing on any machine changes). Without a host it needs Nix on this machine; with one, the
host must run NixOS (its nix evaluates a copy of the flake, removed afterwards).

Examples:
  nixnode-install check --flake ./my-node
  nixnode-install check --flake ./my-node root@203.0.113.7`,
  options: {
    flake: { type: "string", value: "DIR", help: "the node flake (default: the current folder)" },
    host: { type: "string", value: "NAME", help: "which hosts/<NAME> (default: the flake's only host)" },
    ...SSH_CLI_OPTIONS,
  },
  maxArgs: 1,
  async run(ctx) {
    const flakeDir = resolve(ctx.cwd, typeof ctx.options.flake === "string" ? ctx.options.flake : ".");
    const at = locateHostFile(flakeDir, {
      hostname: typeof ctx.options.host === "string" ? ctx.options.host : undefined,
      field: "--flake",
    });
    const hostName = at.hostname;
    const destination = ctx.args[0];
    const started = Date.now();
    let drvPath: string;
    if (!destination) {
      const nix = which("nix", ctx.env);
      if (!nix)
        throw new UserError("nix is not installed on this machine, and no host was given to evaluate on", {
          field: "nix",
          hint: "install Nix (https://nixos.org/download), or pass a NixOS host: nixnode-install check --flake DIR root@HOST",
        });
      ctx.out.step("check", "start", `Evaluating ${hostName} with ${nix}…`);
      const r = await evalSystemLocally(nix, flakeDir, hostName, { env: ctx.env, log: ctx.log, signal: ctx.signal });
      if (!r.ok) throw notEvaluating(hostName, "this machine", r.errorLines);
      drvPath = r.drvPath;
    } else {
      const target = await connectFromCli(ctx, destination);
      try {
        const os = await target.run("cat /etc/os-release", { signal: ctx.signal });
        if (
          !/^ID="?nixos"?$/m.test(os.stdout) ||
          (await target.run("command -v nix", { signal: ctx.signal })).code !== 0
        )
          throw new UserError(`${target.description} does not run NixOS with nix: it cannot evaluate the flake`, {
            field: "target",
            hint: "check on a NixOS host, or install Nix here and run check without a host",
          });
        ctx.out.step("check", "start", `Evaluating ${hostName} on ${target.description}…`);
        const dir = (await target.run("mktemp -d /tmp/nixnode-check.XXXXXX", { signal: ctx.signal })).stdout.trim();
        if (!/^\/tmp\/nixnode-check\.[A-Za-z0-9]+$/.test(dir))
          throw new OperationError(`could not make a temporary folder on ${target.description}: ${dir}`);
        try {
          await target.upload(`${dir}.tar`, tarFlake(flakeDir), 0o600);
          const unpack = await target.run(
            `tar -xf ${shellQuote(`${dir}.tar`)} -C ${shellQuote(dir)} && rm -f ${shellQuote(`${dir}.tar`)}`,
            {
              signal: ctx.signal,
            },
          );
          if (unpack.code !== 0)
            throw new OperationError(`could not unpack the flake on ${target.description}`, {
              details: [unpack.stderr.trim()],
            });
          ctx.log.write(`target$ ${evalSystemCommand(dir, hostName)}`);
          const r = await target.run(evalSystemCommand(dir, hostName), { signal: ctx.signal, timeoutMs: 60 * 60_000 });
          ctx.log.write(`${r.stdout}\n${r.stderr}`.trim());
          if (r.code !== 0) throw notEvaluating(hostName, target.description, nixErrorLines(r.stderr));
          drvPath = r.stdout.trim();
        } finally {
          await target.run(`rm -rf ${shellQuote(dir)} ${shellQuote(`${dir}.tar`)}`).catch(() => undefined);
        }
      } finally {
        await target.close();
      }
    }
    ctx.out.step("check", "done", `Evaluated ${hostName}`, { elapsedMs: Date.now() - started });
    ctx.out.result(`${join(flakeDir)}#${hostName} evaluates: ${drvPath}`, { flake: flakeDir, host: hostName, drvPath });
    return 0;
  },
};

function notEvaluating(hostName: string, where: string, lines: string[]): OperationError {
  return new OperationError(`${hostName} does not evaluate (nix on ${where})`, {
    details: lines,
    hint: "fix the option or file Nix names above, then check again; nothing was changed anywhere",
  });
}

export default command;
