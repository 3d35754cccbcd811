// What must hold before anything on the target changes (before kexec): the whole system evaluates,
// and the kexec image that will boot is the planned release's, with the published SHA-256. For
// nixos-anywhere both are done on the operator's machine: a local `nix eval` when Nix is installed
// here (1.13 itself evaluates only after kexec with --build-on remote; docs/install.md), and the
// tarball downloaded, checked and handed to nixos-anywhere as a local file (it uploads a local file).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OperationError } from "../errors";
import type { Log } from "../ui/log";
import type { Output } from "../ui/output";
import { evalSystemArgs, nixErrorLines } from "./engine-builtin";
import { downloadKexecImage, resolveKexecImage, unverifiedWarning } from "./kexec-image";
import type { InstallContext } from "./types";

export interface LocalEvalResult {
  ok: boolean;
  /** The .drv path when it evaluates. */
  drvPath: string;
  /** Nix's error, from its first `error:` line, as `| line` rows. */
  errorLines: string[];
}

/** `nix eval --raw <flake>#nixosConfigurations."<host>".config.system.build.toplevel.drvPath` here, argv only. */
export function evalSystemLocally(
  nix: string,
  flakeDir: string,
  hostName: string,
  o: { env: NodeJS.ProcessEnv; log: Log; signal?: AbortSignal },
): Promise<LocalEvalResult> {
  const args = evalSystemArgs(flakeDir, hostName);
  o.log.write(`local$ ${nix} ${args.map((a) => JSON.stringify(a)).join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(nix, args, { env: o.env, stdio: ["ignore", "pipe", "pipe"], signal: o.signal });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      o.log.write(`${stdout}\n${stderr}`.trim());
      resolve({ ok: code === 0, drvPath: stdout.trim(), errorLines: code === 0 ? [] : nixErrorLines(stderr) });
    });
  });
}

type PreflightContext = Pick<
  InstallContext,
  "flake" | "facts" | "runPhases" | "env" | "log" | "out" | "signal" | "which" | "kexecSha256"
>;

/**
 * Before nixos-anywhere starts: evaluate locally when Nix is here (an option error stops before any
 * change), then fetch and check the kexec image when kexec will run. Returns the local tarball for
 * --kexec (null: no kexec this run) and a cleanup for it.
 */
export async function prepareNixosAnywhere(
  ctx: PreflightContext,
  onStep: (s: string) => void,
): Promise<{ kexecFile: string | null; cleanup(): void }> {
  const nix = ctx.which("nix");
  if (nix) {
    onStep("evaluating the system on this machine");
    const r = await evalSystemLocally(nix, ctx.flake.dir, ctx.flake.hostName, ctx);
    if (!r.ok)
      throw new OperationError(
        "the system does not evaluate (checked with the Nix on this machine): nothing was changed on the target",
        {
          details: r.errorLines,
          hint: "fix the flake (nixnode-install check --flake DIR shows the same error), then run the same command again",
        },
      );
    ctx.log.write(`the system evaluates: ${r.drvPath}`);
  } else {
    ctx.log.write(
      "no nix on this machine: nixos-anywhere evaluates the system itself (after kexec with --build-on remote)",
    );
  }
  if (!ctx.runPhases.includes("kexec") || ctx.facts.os.isNixosInstaller) return { kexecFile: null, cleanup() {} };
  onStep("fetching the kexec installer and checking its SHA-256");
  const image = await resolveKexecImage({
    arch: ctx.facts.arch,
    release: ctx.flake.host.stateVersion,
    ipv6Only: false, // the operator's machine downloads it, over its own network
    sha256: ctx.kexecSha256,
    env: ctx.env,
    signal: ctx.signal,
  });
  if (!image.sha256) {
    const w = unverifiedWarning(image);
    ctx.log.write(`warning: ${w}`);
    ctx.out.warn(w);
  }
  const dir = mkdtempSync(join(tmpdir(), "nixnode-kexec-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const file = await downloadKexecImage(image, dir, { signal: ctx.signal });
    ctx.log.write(`kexec image ${image.url} -> ${file} (${image.sha256 ? `sha256 ${image.sha256} ok` : "UNVERIFIED"})`);
    return { kexecFile: file, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}
