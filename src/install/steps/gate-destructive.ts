// Step: the last checks before anything destructive, then the operator's confirmation. The preflight
// again (on the facts this run probed), an operator key that will get in (nixos-anywhere #294), no
// disko on a running system, the engine, and the erase confirmation when disko runs.
import { UserError } from "../../errors";
import { formatVerdict, preflight } from "../../detect/preflight";
import { describeErasure } from "../erase-summary";
import { refuseWithoutOperatorKey } from "../flake-host";
import { refuseDiskoOnRunningSystem } from "../phases";
import type { InstallContext } from "../types";

export async function gateDestructive(
  ctx: Pick<
    InstallContext,
    "facts" | "flake" | "label" | "runPhases" | "operatorPublicKeys" | "engine" | "which" | "confirmErase"
  >,
): Promise<Pick<InstallContext, "engineName">> {
  const { facts, flake, label } = ctx;
  const verdict = preflight(facts);
  if (!verdict.ok) {
    throw new UserError(`${label} cannot be installed: the preflight refused it`, {
      field: "target",
      details: formatVerdict(verdict),
      hint: verdict.checks.find((c) => c.status === "fail")?.fix ?? "see the checks above",
    });
  }
  refuseWithoutOperatorKey(flake.host, ctx.operatorPublicKeys, flake.hostName);
  refuseDiskoOnRunningSystem(ctx.runPhases, {
    label,
    inInstaller: facts.os.isNixosInstaller,
    osName: facts.os.prettyName,
  });
  const engineName = pickEngine(ctx);
  if (ctx.runPhases.includes("disko")) {
    const lines = flake.plan
      ? describeErasure(facts, flake.plan.disk)
      : ["Every disk in hosts/" + flake.hostName + "/disk-config.nix will be ERASED."];
    await ctx.confirmErase(lines, flake.hostName);
  }
  return { engineName };
}

function pickEngine(ctx: Pick<InstallContext, "engine" | "which">): "nixos-anywhere" | "builtin" {
  if (ctx.engine === "builtin") return "builtin";
  const na = ctx.which("nixos-anywhere");
  if (ctx.engine === "nixos-anywhere" && !na) {
    throw new UserError("--engine nixos-anywhere: nixos-anywhere is not on PATH", {
      field: "--engine",
      hint: "install it (nix profile install github:nix-community/nixos-anywhere), or use --engine builtin",
    });
  }
  // its connections are pinned through a wrapper that execs OpenSSH's ssh (run-nixos-anywhere.ts)
  if (na && !ctx.which("ssh")) {
    if (ctx.engine === "nixos-anywhere")
      throw new UserError("--engine nixos-anywhere: OpenSSH's ssh is not on PATH", {
        field: "--engine",
        hint: "install the OpenSSH client (nixos-anywhere's connections are pinned through it), or use --engine builtin",
      });
    return "builtin";
  }
  return na ? "nixos-anywhere" : "builtin";
}
