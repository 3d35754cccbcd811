// Where the new system is built (issue 13): on the operator's machine when it has a Nix that can
// build NixOS and the same architecture as the node (then `nix copy` sends the closure over SSH),
// else on the target, like the install. The decision and the argv are pure and tested; the local
// path has NOT been run against a real NixOS build here (Debian's Nix 2.8 cannot build NixOS).
import type { HostData } from "../plan/types";
import { shellQuote } from "../util/shell-quote";

/**
 * The oldest Nix we trust to build a current NixOS from a flake: a conservative floor chosen here
 * (flakes and `nix copy --to ssh-ng://` as the docs describe them), not a number nixpkgs publishes.
 */
export const MIN_LOCAL_NIX = [2, 18] as const;

export interface LocalNix {
  /** `nix --version` output, e.g. "nix (Nix) 2.24.9"; null when nix is not installed. */
  versionText: string | null;
  /** `nix eval --impure --raw --expr builtins.currentSystem`, e.g. "x86_64-linux"; null if unknown. */
  system: string | null;
}

export type BuildLocation = { where: "local"; reason: string } | { where: "target"; reason: string };

export function parseNixVersion(text: string | null): [number, number, number] | null {
  const m = /\b(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? "");
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

export function chooseBuildLocation(local: LocalNix, target: HostData["system"]): BuildLocation {
  const v = parseNixVersion(local.versionText);
  if (!v) return { where: "target", reason: "this machine has no Nix" };
  const [maj, min] = MIN_LOCAL_NIX;
  if (v[0] < maj || (v[0] === maj && v[1] < min))
    return {
      where: "target",
      reason: `this machine's Nix ${v.join(".")} is older than ${maj}.${min}, too old to build NixOS`,
    };
  if (!local.system) return { where: "target", reason: "this machine's Nix did not say its system" };
  if (local.system !== target)
    return { where: "target", reason: `this machine is ${local.system}, the node is ${target}` };
  return { where: "local", reason: `this machine has Nix ${v.join(".")} on ${target}, like the node` };
}

const FEATURES = ["--extra-experimental-features", "nix-command flakes"];

/** argv (no shell) of the local build; prints the toplevel's store path. */
export function localBuildArgv(flakeDir: string, hostname: string): string[] {
  return [
    "nix",
    ...FEATURES,
    "build",
    "--no-link",
    "--print-out-paths",
    `path:${flakeDir}#nixosConfigurations.${hostname}.config.system.build.toplevel`,
  ];
}

export interface CopyTarget {
  user: string;
  host: string;
  port: number;
  /** The known_hosts file that pins the node's key (StrictHostKeyChecking=yes). */
  knownHostsFile: string;
  identityFile?: string;
}

/**
 * argv (no shell) and environment of `nix copy` to the node over ssh-ng. The SSH options go through
 * NIX_SSHOPTS, which Nix splits on whitespace without a shell: a value with whitespace cannot be
 * carried intact, so the caller refuses it first (copyTargetProblem).
 */
export function nixCopyCommand(toplevel: string, t: CopyTarget): { argv: string[]; env: Record<string, string> } {
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  const opts = [
    "-p",
    String(t.port),
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${t.knownHostsFile}`,
    ...(t.identityFile ? ["-i", t.identityFile, "-o", "IdentitiesOnly=yes"] : []),
  ];
  return {
    argv: ["nix", ...FEATURES, "copy", "--substitute-on-destination", "--to", `ssh-ng://${t.user}@${host}`, toplevel],
    env: { NIX_SSHOPTS: opts.join(" ") },
  };
}

/** Why the local path cannot carry these values (NIX_SSHOPTS is split on whitespace), or null. */
export function copyTargetProblem(t: CopyTarget): string | null {
  for (const [what, v] of [
    ["the known_hosts path", t.knownHostsFile],
    ["the key path", t.identityFile ?? ""],
    ["the user", t.user],
    ["the host", t.host],
  ] as const)
    if (/\s/.test(v)) return `${what} ${JSON.stringify(v)} has a space, which NIX_SSHOPTS cannot carry`;
  return null;
}

/** The commands as a person would type them (for --dry-run and the log). */
export function describeLocalBuild(flakeDir: string, hostname: string, t: CopyTarget): string[] {
  const copy = nixCopyCommand("<the built toplevel>", t);
  return [
    localBuildArgv(flakeDir, hostname).map(shellQuote).join(" "),
    `NIX_SSHOPTS=${shellQuote(copy.env.NIX_SSHOPTS!)} ${copy.argv.map(shellQuote).join(" ")}`,
  ];
}

export const BUILD_ON = ["auto", "local", "target"] as const;
export type BuildOn = (typeof BUILD_ON)[number];

/**
 * What `--build-on` asks for, judged against this machine's Nix: `auto` follows chooseBuildLocation,
 * `target` always builds there, `local` when it cannot build here is an error (the reason, for the
 * caller's exit-2 message) rather than a silent fallback.
 */
export function decideBuildLocation(
  buildOn: BuildOn,
  local: LocalNix,
  target: HostData["system"],
  copy: CopyTarget | null,
): BuildLocation | { error: string } {
  if (buildOn === "target") return { where: "target", reason: "--build-on target" };
  const chosen = chooseBuildLocation(local, target);
  const problem = chosen.where === "local" && copy ? copyTargetProblem(copy) : null;
  if (buildOn === "local") {
    if (chosen.where !== "local") return { error: chosen.reason };
    if (problem) return { error: problem };
    return { where: "local", reason: `--build-on local: ${chosen.reason}` };
  }
  if (problem) return { where: "target", reason: `${problem}, so it builds on the node` };
  return chosen;
}
