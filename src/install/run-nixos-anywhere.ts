// nixos-anywhere as the install runs it: the argv from the plan and facts, the password only through
// $SSHPASS, the task list driven by its own ### lines, and EVERY ssh connection it opens pinned to
// the keys this run verified (the target's current key, which the kexec installer keeps, and the new
// pinned key) through the ssh wrapper first on its PATH. A refused key stops it at once: 1.13 would
// otherwise retry ssh-copy-id every 3 s forever.
import { hostKeyFiles } from "../secrets/host-key";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OperationError, UserError } from "../errors";
import { runNixosAnywhere } from "./engine-nixos-anywhere";
import { prepareNixosAnywhere } from "./kexec-preflight";
import { buildNixosAnywhereArgs } from "./nixos-anywhere-args";
import type { InstallPhase } from "./phases";
import { createPinnedSsh, isHostKeyRefusal, type PinnedSsh } from "./ssh-wrapper";
import type { InstallContext } from "./types";

export type NixosAnywhereContext = Pick<
  InstallContext,
  | "flake"
  | "facts"
  | "staged"
  | "runPhases"
  | "destination"
  | "presented"
  | "presentedKey"
  | "probeHostKey"
  | "identityFile"
  | "password"
  | "env"
  | "log"
  | "signal"
  | "which"
  | "out"
  | "kexecSha256"
>;

export async function runNixosAnywhereEngine(
  ctx: NixosAnywhereContext,
  enterPhase: (p: InstallPhase) => void,
  onStep: (s: string) => void,
): Promise<void> {
  const { flake, destination: dest } = ctx;
  const hostDir = join(flake.dir, "hosts", flake.hostName);
  const hasHardware = ["facter.json", "hardware.nix", "hardware-configuration.nix"].some((f) =>
    existsSync(join(hostDir, f)),
  );
  const realSsh = ctx.which("ssh");
  if (!realSsh)
    throw new UserError("--engine nixos-anywhere: OpenSSH's ssh is not on PATH", {
      field: "--engine",
      hint: "install the OpenSSH client (nixos-anywhere's connections are pinned through it), or use --engine builtin",
    });
  // the system evaluates (where Nix is here) and the kexec image is the planned release's, checked
  const pre = await prepareNixosAnywhere(ctx, onStep);
  let pinned: PinnedSsh | null = null;
  try {
    const args = buildNixosAnywhereArgs({
      kexecFile: pre.kexecFile,
      flakeDir: flake.dir,
      hostName: flake.hostName,
      user: dest.user,
      host: dest.host,
      port: dest.port,
      identityFile: ctx.identityFile,
      extraFilesDir: ctx.staged?.extraFilesDir ?? emptyExtraFiles(),
      generateFacterReportTo: hasHardware ? null : join(hostDir, "facter.json"),
      facts: ctx.facts,
      operator: { platform: process.platform, arch: process.arch },
      phases: ctx.runPhases,
      usePasswordFromEnv: !ctx.identityFile && ctx.password !== null,
    });
    pinned = createPinnedSsh(realSsh, [await verifiedCurrentKey(ctx), ...newHostKey(ctx)]);
    ctx.log.write(`nixos-anywhere's ssh is pinned: ${pinned.dir}/ssh -> ${realSsh}`);
    const env: NodeJS.ProcessEnv = pinned.env(ctx.env);
    if (ctx.password !== null) {
      env.SSHPASS = ctx.password;
      ctx.log.addSecret(ctx.password);
    }
    await runNixosAnywhere({
      command: ctx.which("nixos-anywhere")!,
      prefixArgs: [],
      args,
      env,
      log: ctx.log,
      signal: ctx.signal,
      // phases nixos-anywhere does not announce (e.g. kexec skipped inside an installer) are passed over
      onPhase: enterPhase,
      onStep,
      stopOn: (line) => (isHostKeyRefusal(line) ? changedKeyError(ctx, line) : null),
    });
  } finally {
    pinned?.cleanup();
    pre.cleanup();
  }
}

/** The key line of the fingerprint the run verified; looked up again if the first handshake missed it. */
async function verifiedCurrentKey(ctx: NixosAnywhereContext): Promise<string> {
  if (ctx.presentedKey) return ctx.presentedKey;
  const probe = await ctx.probeHostKey(ctx.destination.host, ctx.destination.port, 10_000);
  if (probe.kind === "key" && probe.fingerprint === ctx.presented && probe.publicKey) return probe.publicKey;
  if (probe.kind === "key") throw changedKeyError(ctx, `presented: ${probe.fingerprint}`);
  throw new OperationError(`could not read the host key of ${ctx.destination.host}:${ctx.destination.port} again`, {
    details: [probe.message],
  });
}

function newHostKey(ctx: NixosAnywhereContext): string[] {
  if (ctx.staged) return [ctx.staged.key.publicKey];
  const pub = join(ctx.flake.dir, hostKeyFiles(ctx.flake.dir, ctx.flake.hostName).pub);
  return existsSync(pub) ? [readFileSync(pub, "utf8").trim()] : [];
}

function changedKeyError(ctx: NixosAnywhereContext, seen: string): OperationError {
  return new OperationError(
    `the host key of ${ctx.destination.host}:${ctx.destination.port} changed: nixos-anywhere's connection presented a key that is not the one this run verified`,
    {
      details: [
        `verified: ${ctx.presented ?? "(none)"}`,
        `ssh: ${seen.trim()}`,
        "ssh refused it before logging in: nothing (no host key, no file) was sent over that connection.",
      ],
      hint: "someone may be intercepting the connection, or the machine was reinstalled meanwhile: check from the provider's console before trusting a new key",
    },
  );
}

function emptyExtraFiles(): string {
  throw new UserError("--phases: the install phase needs the host key; run it together with the install phase", {
    field: "--phases",
  });
}
