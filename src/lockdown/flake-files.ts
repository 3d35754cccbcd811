// The operator's flake on disk as the lockdown uses it: which host and its host.json (both through
// src/flake/host-file, the one owner), the lockdown.nix module, and the tarball that carries the
// flake to the target over the one SSH connection. Every write is atomic (src/util/write-atomic).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import lockdownNix from "../../flake-templates/base/hosts/lockdown.nix?raw";
import { OperationError } from "../errors";
import { readHostFile, restoreHostFile, writeHostFile } from "../flake/host-file";
import type { HostData } from "../plan/types";
import { writeAtomic } from "../util/write-atomic";

export interface FlakeHost {
  flakeDir: string;
  hostname: string;
  hostDir: string;
  hostJsonPath: string;
  /** hosts/<name>/host.json, as refusals name it. */
  file: string;
  /** host.json as it was before this run touched it. */
  originalText: string;
  host: HostData;
}

/** The flake's host with every host.json field validated; `field` names the flag that chose the flake. */
export function locateFlakeHost(flakeDir: string, hostname?: string, field = "--flake"): FlakeHost {
  const r = readHostFile(flakeDir, { hostname, field });
  return {
    flakeDir,
    hostname: r.hostname,
    hostDir: r.hostDir,
    hostJsonPath: r.path,
    file: r.file,
    originalText: r.text,
    host: r.host,
  };
}

export function writeHostData(f: FlakeHost, host: HostData): void {
  writeHostFile({ path: f.hostJsonPath, file: f.file }, host);
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
    restoreHostFile({ path: f.hostJsonPath }, before);
    if (nixBefore === null) rmSync(nixPath, { force: true });
    else writeAtomic(nixPath, nixBefore);
  }
}

/**
 * The flake as a tar stream (no .git: the target builds it as a path: flake, untracked files included).
 * In a fleet flake another host's lockdown may be writing its own hosts/<name>/ files at that moment
 * (atomic renames): tar then says "file changed as we read it" and a fresh pack, a moment later, is
 * consistent, so that one answer is retried a few times.
 */
export async function tarFlake(flakeDir: string): Promise<Buffer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await tarFlakeOnce(flakeDir);
    } catch (e) {
      if (attempt >= 5 || !/file changed as we read it/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}

function tarFlakeOnce(flakeDir: string): Promise<Buffer> {
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
