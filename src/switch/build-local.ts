// The local build of a switch (issue 13): this machine's Nix builds the toplevel, `nix copy` sends
// its closure to the node over SSH that accepts ONLY the pinned host key (a private, temporary
// known_hosts holding `[host]:port <pinned key>`), and the caller activates that store path under
// the supervisor. Nothing runs through a shell; NIX_SSHOPTS carries the SSH options.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors";
import type { RemoteSession } from "../lockdown/types";
import { fingerprintSha256, keyTypeOf, knownHostsName, type HostKey } from "../remote/known-hosts";
import { createSecretTempDir } from "../secrets/host-key";
import { runArgv } from "../util/run-argv";
import { localBuildArgv, nixCopyCommand, type CopyTarget, type LocalNix } from "./build-location";

const FEATURES = ["--extra-experimental-features", "nix-command flakes"];

/** `nix --version` and the system this machine's Nix builds for; a missing or silent nix is none. */
export async function probeLocalNix(env: NodeJS.ProcessEnv = process.env): Promise<LocalNix> {
  const version = await runArgv(["nix", "--version"], { env, timeoutMs: 10_000 });
  if (version.code !== 0 || !version.stdout.trim()) return { versionText: null, system: null };
  const sys = await runArgv(["nix", ...FEATURES, "eval", "--impure", "--raw", "--expr", "builtins.currentSystem"], {
    env,
    timeoutMs: 10_000,
  });
  const text = sys.code === 0 ? sys.stdout.trim() : "";
  return { versionText: String(version.stdout).trim(), system: /^[a-z0-9_]+-[a-z0-9]+$/.test(text) ? text : null };
}

/**
 * The known_hosts key line (`type base64`) of the pinned key: the key the session's handshake
 * proved when it has one, else the node's ed25519 .pub read over that pinned session; either way
 * its fingerprint must be the pinned one.
 */
export async function pinnedKeyLine(primary: RemoteSession & { hostKey?: HostKey }, pinned: string): Promise<string> {
  let blob = primary.hostKey?.blob;
  if (!blob || fingerprintSha256(blob) !== pinned) {
    const r = await primary.run("cat /etc/ssh/ssh_host_ed25519_key.pub", { timeoutMs: 10_000 });
    blob = Buffer.from(r.stdout.trim().split(/\s+/)[1] ?? "", "base64");
  }
  if (fingerprintSha256(blob) !== pinned)
    throw new OperationError(
      `the node's host key ${fingerprintSha256(blob)} is not the pinned ${pinned}; nothing was built or copied`,
      { hint: "check the node's host key (ssh-keyscan) against ssh.hostKeyFingerprint in host.json" },
    );
  return `${keyTypeOf(blob)} ${blob.toString("base64")}`;
}

const lastLines = (text: string, n = 8) =>
  text
    .trim()
    .split("\n")
    .filter((l) => l.trim())
    .slice(-n);

export interface LocalBuildInput {
  flakeDir: string;
  hostname: string;
  copy: Omit<CopyTarget, "knownHostsFile">;
  /** `type base64` of the pinned host key (pinnedKeyLine). */
  keyLine: string;
  log(line: string): void;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Builds here and copies the closure to the node; returns the toplevel's store path. */
export async function buildAndCopyLocally(i: LocalBuildInput): Promise<string> {
  const env = i.env ?? process.env;
  const argv = localBuildArgv(i.flakeDir, i.hostname);
  i.log(`local build: ${argv.join(" ")}`);
  const build = await runArgv(argv, { env, timeoutMs: 3_600_000, ...(i.signal ? { signal: i.signal } : {}) });
  const toplevel = String(build.stdout).trim().split("\n").pop() ?? "";
  if (build.code !== 0 || !/^\/nix\/store\/[a-z0-9]{32}-[^/\s]+$/.test(toplevel))
    throw new OperationError(
      `the configuration did not build on this machine (exit ${build.code ?? build.signal ?? "?"}); nothing was copied or activated, the node is unchanged`,
      {
        details: lastLines(String(build.stderr)),
        hint: "fix the error shown, or build on the node with --build-on target",
      },
    );
  i.log(`local build: ${toplevel}`);
  const tmp = createSecretTempDir("nixnode-copy-");
  try {
    const knownHostsFile = join(tmp.path, "known_hosts");
    writeFileSync(knownHostsFile, `${knownHostsName(i.copy.host, i.copy.port)} ${i.keyLine}\n`, { mode: 0o600 });
    const copy = nixCopyCommand(toplevel, { ...i.copy, knownHostsFile });
    i.log(`local build: NIX_SSHOPTS=${copy.env.NIX_SSHOPTS} ${copy.argv.join(" ")}`);
    const r = await runArgv(copy.argv, {
      env: { ...env, ...copy.env },
      timeoutMs: 3_600_000,
      ...(i.signal ? { signal: i.signal } : {}),
    });
    if (r.code !== 0)
      throw new OperationError(
        `nix copy of the built system to the node failed (exit ${r.code ?? r.signal ?? "?"}); nothing was activated, the node is unchanged`,
        {
          details: lastLines(String(r.stderr)),
          hint: `check that ${i.copy.user}@${i.copy.host}:${i.copy.port} answers with the pinned host key and has Nix, or build on the node with --build-on target`,
        },
      );
  } finally {
    tmp.cleanup();
  }
  return toplevel;
}
