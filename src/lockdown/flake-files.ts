// The operator's flake on disk: which host, its host.json, the lockdown.nix module, and the
// tarball that carries the flake to the target over the one SSH connection. Writes are atomic
// (tmp + rename) so an interrupted run never leaves a half-written host.json.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import lockdownNix from "../../flake-templates/base/hosts/lockdown.nix?raw";
import { OperationError, UserError, badField } from "../errors";
import type { HostData } from "../plan/types";
import { parseHostData } from "./host-stages";

export interface FlakeHost {
  flakeDir: string;
  hostname: string;
  hostDir: string;
  hostJsonPath: string;
  /** host.json as it was before this run touched it. */
  originalText: string;
  host: HostData;
}

export function locateFlakeHost(flakeDir: string, hostname?: string): FlakeHost {
  if (!existsSync(join(flakeDir, "flake.nix"))) {
    throw badField(
      "--flake",
      `${flakeDir} has no flake.nix`,
      "point --flake at the folder the install generated (it holds flake.nix and hosts/)",
    );
  }
  const hostsDir = join(flakeDir, "hosts");
  const hosts = existsSync(hostsDir)
    ? readdirSync(hostsDir).filter((n) => statSync(join(hostsDir, n)).isDirectory())
    : [];
  const name = hostname ?? (hosts.length === 1 ? hosts[0] : undefined);
  if (!name) {
    throw new UserError(
      hosts.length
        ? `the flake has several hosts (${hosts.join(", ")}); which one?`
        : `the flake has no hosts/<name>/ folder`,
      {
        field: "--host",
        hint: hosts.length ? "name it with --host NAME" : "point --flake at the folder the install generated",
      },
    );
  }
  const hostJsonPath = join(hostsDir, name, "host.json");
  if (!existsSync(hostJsonPath))
    throw badField("--host", `${hostJsonPath} does not exist`, "name a host that has hosts/<name>/host.json");
  const originalText = readFileSync(hostJsonPath, "utf8");
  return {
    flakeDir,
    hostname: name,
    hostDir: join(hostsDir, name),
    hostJsonPath,
    originalText,
    host: parseHostData(originalText, `hosts/${name}/host.json`),
  };
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

export function writeHostData(f: FlakeHost, host: HostData): void {
  writeAtomic(f.hostJsonPath, JSON.stringify(host, null, 2) + "\n");
  writeAtomic(join(f.hostDir, "lockdown.nix"), lockdownNix);
}

/**
 * The flake as the target must build it for `host`, while the operator's folder keeps describing
 * what is CONFIRMED: the new host.json (and lockdown.nix) exist on disk only while tar reads them,
 * so a run killed at any later moment leaves the flake matching the target's boot default.
 */
export async function stagedTarball(f: FlakeHost, host: HostData): Promise<Buffer> {
  const before = readFileSync(f.hostJsonPath, "utf8");
  const nixPath = join(f.hostDir, "lockdown.nix");
  const nixBefore = existsSync(nixPath) ? readFileSync(nixPath, "utf8") : null;
  writeHostData(f, host);
  try {
    return await tarFlake(f.flakeDir);
  } finally {
    writeAtomic(f.hostJsonPath, before);
    if (nixBefore === null) rmSync(nixPath, { force: true });
    else writeAtomic(nixPath, nixBefore);
  }
}

/** The flake as a tar stream (no .git: the target builds it as a path: flake, untracked files included). */
export function tarFlake(flakeDir: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn("tar", ["-c", "-f", "-", "--exclude=./.git", "--exclude=./result", "-C", flakeDir, "."], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (d: Buffer) => chunks.push(d));
    p.stderr.on("data", (d: Buffer) => (err += d));
    p.on("error", (e) =>
      reject(
        new OperationError(`could not run tar to pack the flake: ${e.message}`, {
          hint: "install tar (it ships with every Linux and macOS)",
        }),
      ),
    );
    p.on("close", (code) =>
      code === 0
        ? resolve(Buffer.concat(chunks))
        : reject(new OperationError(`tar could not pack ${flakeDir}: ${err.trim()}`)),
    );
  });
}
