// A NixOS-personality target plus the operator's side of a lockdown: a key pair, a flake whose
// host.json pins the target's host key, a password primary session (as after an install), and
// runLockdown wired to the real SSH layer. Output is captured for the assertions.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { runLockdown, type LockdownResult } from "../../../src/lockdown";
import { keyOnlyConnector } from "../../../src/lockdown/ssh-connector";
import type { LockdownDeps } from "../../../src/lockdown/types";
import type { HostData } from "../../../src/plan/types";
import { connectSsh } from "../../../src/remote/ssh-target";
import { memoryLog } from "../../../src/ui/log";
import { createOutput } from "../../../src/ui/output";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, type TestTarget } from "../../targets";

export const NEW_PORT = 2222;

export interface Lab {
  t: TestTarget;
  key: KeyPair;
  work: string;
  flake: string;
  hostJsonPath: string;
  fingerprint: string;
  host: HostData;
  stop(): Promise<void>;
}

/** The lab's host.json before the lockdown (as after an install); exported for the NixOS contract test. */
export function labHostData(hostname: string, publicKey: string, fingerprint: string, maxretry: number): HostData {
  return {
    schema: 1,
    hostname,
    system: "x86_64-linux",
    stateVersion: "25.11",
    timezone: "UTC",
    profile: "base",
    ssh: {
      ports: [22],
      passwordAuthentication: true,
      permitRootLogin: "yes",
      authorizedKeys: [publicKey],
      adminUser: null,
      hostKeyFingerprint: fingerprint,
    },
    firewall: { enable: true, allowedTCPPorts: [22], allowedUDPPorts: [] },
    fail2ban: { enable: true, ignoreIP: [], maxretry, bantime: "10m" },
    lockdown: { stage: "none", port: NEW_PORT },
    network: { interfaces: [], dns: [] },
    boot: { mode: "bios" },
  };
}

export async function startLab(opts: { authorizeKeyOnTarget?: boolean; maxretry?: number } = {}): Promise<Lab> {
  const work = mkdtempSync(join(tmpdir(), "nn-lock-"));
  const key = await makeKeyPair(work);
  const t = await startTarget({
    personality: "nixos",
    authorizedKeys: opts.authorizeKeyOnTarget === false ? [] : [key.publicKey],
  });
  const fingerprint = await t.hostKeyFingerprint();
  const flake = join(work, "flake");
  const hostDir = join(flake, "hosts", t.name);
  mkdirSync(hostDir, { recursive: true });
  mkdirSync(join(flake, ".nixnode"), { recursive: true });
  writeFileSync(join(flake, "flake.nix"), "{ outputs = { self, ... }: { }; }\n");
  writeFileSync(
    join(hostDir, "default.nix"),
    "{ lib, ... }: { imports = lib.optional (builtins.pathExists ./lockdown.nix) ./lockdown.nix; }\n",
  );
  writeFileSync(join(flake, "README.md"), "# my node\n\nThe operator's own notes.\n");
  writeFileSync(join(flake, ".nixnode", "state.json"), JSON.stringify({ install: { verified: true } }));
  const host = labHostData(t.name, key.publicKey, fingerprint, opts.maxretry ?? 5);
  const hostJsonPath = join(hostDir, "host.json");
  writeFileSync(hostJsonPath, JSON.stringify(host, null, 2) + "\n");
  return {
    t,
    key,
    work,
    flake,
    hostJsonPath,
    fingerprint,
    host,
    async stop() {
      await t.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** `nixnode-install lockdown` for the lab's target, flake, key and known_hosts, plus `extra`. */
export function lockdownArgs(lab: Lab, ...extra: string[]): string[] {
  return [
    "lockdown",
    `root@${lab.t.address}`,
    "--flake",
    lab.flake,
    "-i",
    lab.key.privatePath,
    "--known-hosts",
    join(lab.work, "known_hosts"),
    ...extra,
  ];
}

export interface LockdownRun {
  result?: LockdownResult;
  error?: Error & { exitCode?: number; details?: string[] };
  output: string;
  knownHosts: string;
}

/** Runs the lockdown in-process the way the install's last phase does (primary = a password session). */
export async function lockdown(
  lab: Lab,
  extra: Partial<LockdownDeps> & {
    identityFile?: string;
    route?: (p: number) => { host: string; port: number };
    via?: number;
  } = {},
): Promise<LockdownRun> {
  const stream = new PassThrough();
  let output = "";
  stream.on("data", (d: Buffer) => (output += d));
  const out = createOutput({ stdout: stream, stderr: stream, json: false, env: { NO_COLOR: "1" }, stdinIsTTY: false });
  const knownHosts = join(lab.work, "known_hosts");
  // after an install: a password session on 22; a re-run after lockdown: a key session on `via`
  const primary = extra.via
    ? await connectSsh({
        host: lab.t.address,
        port: extra.via,
        identityFiles: [lab.key.privatePath],
        pinnedHostKey: lab.fingerprint,
      })
    : await connectSsh({ host: lab.t.address, port: 22, password: lab.t.rootPassword, pinnedHostKey: lab.fingerprint });
  const connector = keyOnlyConnector({
    base: { host: lab.t.address, user: "root", identityFiles: [extra.identityFile ?? lab.key.privatePath] },
    pinnedHostKey: extra.hostKeyFingerprint ?? lab.fingerprint,
    route: extra.route,
  });
  const run: LockdownRun = { output: "", knownHosts };
  try {
    run.result = await runLockdown({
      primary,
      currentPort: extra.via ?? 22,
      connector,
      flakeDir: lab.flake,
      confirmTimeoutSec: 8,
      knownHostsFile: knownHosts,
      out,
      log: memoryLog(),
      ...extra,
    });
  } catch (e) {
    run.error = e as LockdownRun["error"];
  } finally {
    await primary.close().catch(() => undefined);
  }
  run.output = output;
  return run;
}
