// fleet.json (+ each host's facts) -> one fleet flake: the hosts' own folders as single-node
// planning makes them, the shared modules once, fleet/fleet.json, and the keys. Everything is
// checked, planned and encrypted in memory first; only then is anything written, and a key or
// secret that already exists in the folder is kept, never made again.
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import collectorNix from "../../flake-templates/fleet/collector.nix?raw";
import nodeDashboard from "../../flake-templates/fleet/dashboards/node.json?raw";
import flakeNix from "../../flake-templates/fleet/flake.nix?raw";
import hiveNix from "../../flake-templates/fleet/hive.nix?raw";
import hostModulesNix from "../../flake-templates/fleet/host-modules.nix?raw";
import meshNix from "../../flake-templates/fleet/mesh.nix?raw";
import nodeNix from "../../flake-templates/fleet/node.nix?raw";
import peerObserverInfraNix from "../../flake-templates/fleet/peer-observer-infra.nix?raw";
import peerObserverNodeNix from "../../flake-templates/fleet/peer-observer-node.nix?raw";
import nixBitcoinProfile from "../../flake-templates/nix-bitcoin/profile.nix?raw";
import peerObserverProfile from "../../flake-templates/peer-observer/profile.nix?raw";
import readme from "../../flake-templates/fleet/README.md?raw";
import { UserError } from "../errors";
import { loadExample } from "../facts/examples";
import { loadFactsFile } from "../facts/load";
import { AGENIX_REV } from "../generate/agenix-wiring";
import { fillTemplate } from "../generate/fill-template";
import { renderFlake, type FlakeFiles } from "../generate/render-flake";
import { meshHealthChecks } from "../plan/health-checks";
import { planFromFacts } from "../plan/index";
import type { HostData, InstallPlan } from "../plan/types";
import { writeAtomic } from "../util/write-atomic";
import {
  endpointOf,
  FLEET_DATA,
  GRAFANA_PORT,
  MESH_INTERFACE,
  NODE_EXPORTER_PORT,
  PEER_OBSERVER_EXPORTERS,
  PROMETHEUS_PORT,
  readFleetData,
  SMALL_RAM_BYTES,
  type FleetData,
} from "./fleet-data";
import { hostKeys, hostSecret, type PendingFile } from "./fleet-keys";
import { assignPeerObserverIds, peerObserverKey, profileInputs } from "./fleet-profiles";
import type { FleetHost, Inventory } from "./inventory";
import { assignMeshIps, meshHostPort } from "./mesh-address";

export interface FleetPlan {
  files: FlakeFiles;
  /** New encrypted keys and secrets (existing ones are kept and not listed). */
  secrets: PendingFile[];
  plans: Record<string, InstallPlan>;
  data: FleetData;
  /** Hosts whose folders exist from an earlier plan but are no longer in the inventory. */
  removed: string[];
}

async function factsOf(h: FleetHost) {
  const field = `hosts.${h.name}.${h.facts.kind === "file" ? "facts" : "example"}`;
  if (h.facts.kind === "example") return { facts: loadExample(h.facts.name, field), facterReport: undefined };
  const loaded = await loadFactsFile(h.facts.path, field);
  return { facts: loaded.facts, facterReport: loaded.facterReport };
}

function planHost(h: FleetHost, facts: Awaited<ReturnType<typeof factsOf>>, today?: Date): InstallPlan {
  try {
    return planFromFacts({
      facts: facts.facts,
      facterReport: facts.facterReport,
      config: h.config,
      interactive: false,
      today,
    });
  } catch (e) {
    if (e instanceof UserError) {
      const field = `hosts.${h.name}.${e.field ?? "facts"}`;
      const message =
        e.field && e.message.startsWith(`${e.field}:`) ? e.message.slice(e.field.length + 1) : ` ${e.message}`;
      throw new UserError(`${field}:${message}`, { field, hint: e.hint, details: e.details, cause: e });
    }
    throw e;
  }
}

/**
 * The operator's machine builds for hosts with little RAM; a host of another architecture than
 * the operator's builds itself (unless the inventory says otherwise).
 */
function buildOnTarget(h: FleetHost, plan: InstallPlan, localSystem: string): boolean {
  if (h.buildOnTarget !== null) return h.buildOnTarget;
  if (plan.facts.memory.totalBytes < SMALL_RAM_BYTES) return false;
  return plan.host.system !== localSystem;
}

export interface PlanFleetOptions {
  /** The flake folder (existing keys there are kept); null: plan in memory only. */
  dir: string | null;
  /** The system the operator builds on (tests pin it). */
  localSystem?: string;
  today?: Date;
}

export async function planFleet(inv: Inventory, opts: PlanFleetOptions): Promise<FleetPlan> {
  const dir = opts.dir;
  const previous = dir ? readFleetData(dir) : null;
  const localSystem = opts.localSystem ?? (process.arch === "arm64" ? "aarch64-linux" : "x86_64-linux");
  const plans: Record<string, InstallPlan> = {};
  for (const h of inv.hosts) plans[h.name] = planHost(h, await factsOf(h), opts.today);

  const recorded = Object.fromEntries(Object.entries(previous?.hosts ?? {}).map(([n, p]) => [n, p.meshIp]));
  const meshIps = assignMeshIps(inv.mesh.subnet, inv.hosts, recorded);
  const collector = inv.hosts.find((h) => h.role === "collector")!;
  const profileOf = (n: string) => plans[n]!.config.profile;
  const poIds = assignPeerObserverIds(
    inv.hosts.map((h) => h.name).filter((n) => profileOf(n) === "peer-observer"),
    Object.fromEntries(Object.entries(previous?.hosts ?? {}).map(([n, p]) => [n, p.peerObserver?.id])),
  );

  const files: FlakeFiles = {};
  const secrets: PendingFile[] = [];
  const data: FleetData = {
    schema: 1,
    mesh: {
      subnet: inv.mesh.subnet.cidr,
      prefix: inv.mesh.subnet.prefix,
      family: inv.mesh.subnet.family,
      hostPrefix: inv.mesh.subnet.family === 4 ? 32 : 128,
      port: inv.mesh.port,
      interface: MESH_INTERFACE,
    },
    exporters: { node: NODE_EXPORTER_PORT, peerObserver: { ...PEER_OBSERVER_EXPORTERS } },
    collector: { host: collector.name, prometheusPort: PROMETHEUS_PORT, grafanaPort: GRAFANA_PORT },
    hosts: {},
  };
  for (const h of inv.hosts) {
    const plan = plans[h.name]!;
    const operators = plan.config.ssh.authorizedKeys;
    const keys = await hostKeys(dir, h.name, operators);
    secrets.push(...keys.writes);
    if (h.role === "collector") {
      for (const [name, kind] of [
        ["grafana-secret-key", "hex32"],
        ["grafana-admin-password", "password"],
      ] as const) {
        const s = await hostSecret(dir, h.name, name, kind, [keys.sshPublicKey, ...operators]);
        if (s) secrets.push(s);
      }
    }
    const host: HostData = {
      ...plan.host,
      ssh: { ...plan.host.ssh, hostKeyFingerprint: keys.sshFingerprint },
      // the mesh's UDP port: host.json is what nixnode.nix opens and what the lockdown keeps
      firewall: {
        ...plan.host.firewall,
        allowedUDPPorts: [...new Set([...plan.host.firewall.allowedUDPPorts, inv.mesh.port])].sort((a, b) => a - b),
      },
      // a switch that takes the mesh down is rolled back like one that breaks SSH (docs/switch.md)
      health: { checks: [...(plan.host.health?.checks ?? []), ...meshHealthChecks(MESH_INTERFACE)] },
    };
    const single = renderFlake({ ...plan, host });
    for (const [path, text] of Object.entries(single)) if (path.startsWith(`hosts/${h.name}/`)) files[path] = text;
    data.hosts[h.name] = {
      name: h.name,
      role: h.role,
      address: h.address,
      endpoint: endpointOf(h.address, inv.mesh.port),
      meshIp: meshIps[h.name]!,
      meshHost: meshHostPort(meshIps[h.name]!),
      wireguardPublicKey: keys.wireguardPublicKey,
      system: plan.host.system,
      profile: plan.config.profile,
      deployment: {
        targetHost: h.address,
        targetPort: plan.config.ssh.port,
        targetUser: plan.config.ssh.adminUser ?? "root",
        buildOnTarget: buildOnTarget(h, plan, localSystem),
        // `colmena apply --on @peer-observer` reaches every node of that profile
        tags: plan.config.profile === "base" ? [h.role] : [h.role, plan.config.profile],
      },
    };
    if (plan.config.profile === "peer-observer") {
      const id = poIds[h.name]!;
      const key = await peerObserverKey(dir, h.name, [keys.sshPublicKey, ...operators]);
      secrets.push(...key.writes);
      const b = plan.bitcoin;
      data.hosts[h.name]!.peerObserver = {
        id,
        wireguardIp: `10.21.0.${id}`,
        wireguardPublicKey: key.publicKey,
        bitcoind: { prune: b?.pruneMiB ?? 0, dataDir: b?.dataDir ?? null, requiresMount: b?.requiresMount ?? null },
      };
    }
  }
  const profiles = new Set(inv.hosts.map((h) => profileOf(h.name)));
  if (profiles.has("peer-observer")) {
    files["fleet/peer-observer-infra.nix"] = peerObserverInfraNix;
    files["fleet/peer-observer-node.nix"] = peerObserverNodeNix;
    files["fleet/profiles/peer-observer.nix"] = peerObserverProfile;
  }
  if (profiles.has("nix-bitcoin")) files["fleet/profiles/nix-bitcoin.nix"] = nixBitcoinProfile;

  const first = plans[inv.hosts[0]!.name]!;
  files["flake.nix"] = fillTemplate(flakeNix, "flake-templates/fleet/flake.nix", {
    nixos: first.config.nixos,
    agenixRev: AGENIX_REV,
    profileInputs: profileInputs(profiles),
  });
  files["fleet/host-modules.nix"] = hostModulesNix;
  files["fleet/hive.nix"] = hiveNix;
  files["fleet/mesh.nix"] = meshNix;
  files["fleet/node.nix"] = nodeNix;
  files["fleet/collector.nix"] = collectorNix;
  files["fleet/dashboards/node.json"] = nodeDashboard;
  files[FLEET_DATA] = `${JSON.stringify(data, null, 2)}\n`;
  const c = data.hosts[collector.name]!;
  files["README.md"] = fillTemplate(readme, "flake-templates/fleet/README.md", {
    hostTable: [
      "| Host | Role | Profile | Address | Mesh address | SSH after lockdown |",
      "| --- | --- | --- | --- | --- | --- |",
      ...Object.values(data.hosts).map(
        (x) =>
          `| ${x.name} | ${x.role} | ${x.profile} | ${x.address} | ${x.meshIp} | ${x.deployment.targetUser}@, port ${x.deployment.targetPort} |`,
      ),
    ],
    tunnel: `ssh -p ${c.deployment.targetPort} -L ${GRAFANA_PORT}:${c.meshHost}:${GRAFANA_PORT} ${c.deployment.targetUser}@${c.address}`,
  });
  files[".gitignore"] =
    "result\nresult-*\n# decrypted secrets must never be committed; only secrets/**/*.age\n*.decrypted\n";

  const removed =
    dir && existsSync(join(dir, "hosts"))
      ? readdirSync(join(dir, "hosts"))
          .filter((n) => !inv.hosts.some((h) => h.name === n))
          .sort()
      : [];
  return {
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))),
    secrets,
    plans,
    data,
    removed,
  };
}

/**
 * The folder must be new, empty, or an earlier fleet plan (which is updated in place); anything
 * else needs `force`. Checked before planning, so a refusal writes nothing.
 */
export function checkFleetDir(dir: string, force: boolean, field = "--out", shown = dir): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length === 0 || force || existsSync(join(dir, FLEET_DATA))) return;
  throw new UserError(`${field}: ${shown} is not empty and holds no fleet plan (${FLEET_DATA})`, {
    field,
    hint: "choose a new folder, or the folder of an earlier `fleet plan`, or add --force",
  });
}

/** Writes the files (replacing generated ones) and the new secrets; returns the paths written. */
export function writeFleet(plan: FleetPlan, dir: string): string[] {
  const out = resolve(dir);
  const written: string[] = [];
  for (const [path, data] of [...Object.entries(plan.files), ...plan.secrets.map((s) => [s.path, s.data] as const)]) {
    const abs = join(out, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeAtomic(abs, data);
    written.push(path);
  }
  return written;
}
