// Step: the new system's identity. Generated here (or kept from the flake: hostKeyFiles), pinned in
// host.json, staged as extra files for the engine (removed when the engine step ends), and recorded
// in state.json together with the key the target presents now.
import { UserError } from "../../errors";
import { stageInFlakeGit } from "../../generate/write-flake";
import { hostKeyFiles } from "../../secrets/host-key";
import { prepareHostKey, type StagedHostKey } from "../flake-host";
import { writeInstallState } from "../install-state";
import type { InstallContext } from "../types";

export async function stageHostKey(
  ctx: Pick<
    InstallContext,
    | "flake"
    | "runPhases"
    | "operatorIdentities"
    | "out"
    | "log"
    | "state"
    | "presented"
    | "facts"
    | "engineName"
    | "warnings"
  >,
): Promise<Pick<InstallContext, "flake" | "staged" | "state">> {
  let flake = ctx.flake;
  let staged: StagedHostKey | null = null;
  if (ctx.runPhases.includes("install")) {
    const prepared = await prepareHostKey(flake.dir, flake.hostName, flake.host, ctx.operatorIdentities);
    staged = prepared.staged;
    await stageInFlakeGit(flake.dir, ["secrets", "keys", `hosts/${flake.hostName}`], (m, h) => ctx.out.warn(m, h));
    flake = { ...flake, host: prepared.host };
    ctx.log.addSecret(staged.key.privateKey);
    if (!staged.storedEncrypted)
      ctx.warnings.push(
        "the host key could not be stored encrypted in the flake (no ssh-ed25519/ssh-rsa operator key): a reinstall will get a new fingerprint",
      );
  }
  const pinned = flake.host.ssh.hostKeyFingerprint;
  if (!pinned) {
    staged?.temp.cleanup();
    throw new UserError(
      `hosts/${flake.hostName}/host.json has no ssh.hostKeyFingerprint and the install phase is not selected`,
      { field: "--phases", hint: "include the install phase so that a host key is generated and pinned" },
    );
  }
  const state = {
    ...ctx.state,
    engine: ctx.engineName,
    pinnedHostKey: pinned,
    previousHostKey: ctx.state.previousHostKey ?? ctx.presented,
    bootIdBefore: ctx.state.bootIdBefore ?? ctx.facts.bootId,
  };
  writeInstallState(flake.dir, state);
  // one message per key: a reused key is not also announced as new
  ctx.out.info(
    staged?.reused
      ? `Keeping the node's host key ${pinned} (from ${hostKeyFiles(flake.dir, flake.hostName).age}; pinned in hosts/${flake.hostName}/host.json)`
      : `New host key for ${flake.hostName}: ${pinned} (pinned in hosts/${flake.hostName}/host.json)`,
  );
  return { flake, staged, state };
}
