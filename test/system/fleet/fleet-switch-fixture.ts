// Three locked-down NixOS-personality targets in ONE fleet-shaped flake: hosts/<name>/host.json
// per target (each pinning that target's real host key) and fleet/fleet.json naming their
// addresses, roles and deployment (port 2222 after the lockdown, user root). Each target is locked
// down with the real runLockdown for its own host of the shared flake, as `fleet install` leaves it.
// The keys of `fleet plan` are not used: these targets bring their own host keys.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { FleetData } from "../../../src/fleet/fleet-data";
import { runLockdown } from "../../../src/lockdown";
import { keyOnlyConnector } from "../../../src/lockdown/ssh-connector";
import type { HostData } from "../../../src/plan/types";
import { connectSsh } from "../../../src/remote/ssh-target";
import { memoryLog } from "../../../src/ui/log";
import { createOutput } from "../../../src/ui/output";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, type TestTarget } from "../../targets";
import { NEW_PORT, labHostData } from "../lockdown/fixture";

export interface FleetLab {
  targets: TestTarget[];
  /** host names in inventory order (the first is the canary) */
  names: string[];
  key: KeyPair;
  work: string;
  flake: string;
  knownHosts: string;
  fingerprints: Record<string, string>;
  stop(): Promise<void>;
}

export function editFleetHost(lab: FleetLab, name: string, edit: (h: HostData) => void): void {
  const p = join(lab.flake, "hosts", name, "host.json");
  const h = JSON.parse(readFileSync(p, "utf8")) as HostData;
  edit(h);
  writeFileSync(p, JSON.stringify(h, null, 2) + "\n");
}

export async function startFleetLab(count = 3): Promise<FleetLab> {
  const work = mkdtempSync(join(tmpdir(), "nn-fleet-sw-"));
  const key = await makeKeyPair(work);
  const targets: TestTarget[] = [];
  const stop = async () => {
    await Promise.all(targets.map((t) => t.stop().catch(() => undefined)));
    rmSync(work, { recursive: true, force: true });
  };
  try {
    for (const t of await Promise.all(
      Array.from({ length: count }, () => startTarget({ personality: "nixos", authorizedKeys: [key.publicKey] })),
    ))
      targets.push(t);
    const flake = join(work, "flake");
    mkdirSync(join(flake, ".nixnode"), { recursive: true });
    mkdirSync(join(flake, "fleet"), { recursive: true });
    writeFileSync(join(flake, "flake.nix"), "{ outputs = { self, ... }: { }; }\n");
    writeFileSync(join(flake, ".nixnode", "state.json"), JSON.stringify({ install: { verified: true } }));
    const fingerprints: Record<string, string> = {};
    const data: FleetData = {
      schema: 1,
      mesh: { subnet: "10.44.0.0/24", prefix: 24, family: 4, hostPrefix: 32, port: 51820, interface: "wg-fleet" },
      exporters: { node: 9100, peerObserver: { wireguard: 9586, process: 9256, metrics: 18282 } },
      collector: { host: targets[0]!.name, prometheusPort: 9090, grafanaPort: 3000 },
      hosts: {},
    };
    for (const [i, t] of targets.entries()) {
      const fp = await t.hostKeyFingerprint();
      fingerprints[t.name] = fp;
      const dir = join(flake, "hosts", t.name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, "default.nix"),
        "{ lib, ... }: { imports = lib.optional (builtins.pathExists ./lockdown.nix) ./lockdown.nix; }\n",
      );
      writeFileSync(join(dir, "host.json"), JSON.stringify(labHostData(t.name, key.publicKey, fp, 5), null, 2) + "\n");
      data.hosts[t.name] = {
        name: t.name,
        role: i === 0 ? "collector" : "node",
        address: t.address,
        endpoint: `${t.address}:51820`,
        meshIp: `10.44.0.${i + 1}`,
        meshHost: `10.44.0.${i + 1}`,
        wireguardPublicKey: "",
        system: "x86_64-linux",
        profile: "base",
        deployment: { targetHost: t.address, targetPort: NEW_PORT, targetUser: "root", buildOnTarget: false, tags: [] },
      };
    }
    writeFileSync(join(flake, "fleet", "fleet.json"), JSON.stringify(data, null, 2) + "\n");
    const knownHosts = join(work, "known_hosts");
    const lab: FleetLab = {
      targets,
      names: targets.map((t) => t.name),
      key,
      work,
      flake,
      knownHosts,
      fingerprints,
      stop,
    };
    // one lockdown at a time: they share the flake's README and state.json
    for (const t of targets) await lockdownOne(lab, t);
    return lab;
  } catch (e) {
    await stop();
    throw e;
  }
}

async function lockdownOne(lab: FleetLab, t: TestTarget): Promise<void> {
  const sink = new PassThrough();
  let output = "";
  sink.on("data", (d: Buffer) => (output += d));
  const out = createOutput({ stdout: sink, stderr: sink, json: false, env: { NO_COLOR: "1" }, stdinIsTTY: false });
  const fp = lab.fingerprints[t.name]!;
  const primary = await connectSsh({ host: t.address, port: 22, password: t.rootPassword, pinnedHostKey: fp });
  try {
    await runLockdown({
      primary,
      currentPort: 22,
      connector: keyOnlyConnector({
        base: { host: t.address, user: "root", identityFiles: [lab.key.privatePath] },
        pinnedHostKey: fp,
      }),
      flakeDir: lab.flake,
      hostname: t.name,
      confirmTimeoutSec: 8,
      knownHostsFile: lab.knownHosts,
      out,
      log: memoryLog(),
    });
  } catch (e) {
    throw new Error(`lockdown of ${t.name} failed: ${(e as Error).message}\n${output}`);
  } finally {
    await primary.close().catch(() => undefined);
  }
}

/** Waits until no supervisor of an earlier switch runs on any target (a new switch rightly refuses until then). */
export async function supervisorsGone(lab: FleetLab): Promise<void> {
  const alive = `for f in /run/nixnode-lockdown/*/supervisor.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && echo alive; done; true`;
  for (const t of lab.targets) {
    let i = 0;
    while ((await t.exec(alive)).stdout.includes("alive")) {
      if (++i > 120) throw new Error(`${t.name}: an earlier supervisor was still running after 60 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
