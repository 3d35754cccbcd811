// fleet/fleet.json: the fleet as data for the shared modules and the colmena hive (read with
// builtins.fromJSON). Also the record a later `fleet plan` reads back, so that mesh addresses and
// keys already given stay as they are.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors";
import { isIpv6 } from "../util/ip";
import type { Profile } from "../plan/types";
import type { Role } from "./inventory";

export const FLEET_DATA = "fleet/fleet.json";
export const MESH_INTERFACE = "wg-fleet";
export const NODE_EXPORTER_PORT = 9100;
export const PROMETHEUS_PORT = 9090;
export const GRAFANA_PORT = 3000;
/**
 * infra-library's exporters on a peer-observer node, as NixOS and infra-library set them (the
 * wireguard and process exporters' defaults, infra-library's PEER_OBSERVER_TOOL_METRICS_COMPRESSED_PORT);
 * the node asserts them against its real configuration (peer-observer-node.nix).
 */
export const PEER_OBSERVER_EXPORTERS = { wireguard: 9586, process: 9256, metrics: 18282 } as const;
/** Below this much RAM a host builds nothing itself: the operator's machine builds and copies. */
export const SMALL_RAM_BYTES = 2 * 1024 ** 3;

export interface FleetDataHost {
  name: string;
  role: Role;
  address: string;
  /** host:port for the other peers, [v6]:port for an IPv6 address. */
  endpoint: string;
  meshIp: string;
  /** meshIp as written before ":port" (listen addresses, scrape targets, URLs): IPv6 in brackets. */
  meshHost: string;
  wireguardPublicKey: string;
  system: string;
  profile: Profile;
  /** peer-observer nodes: their entry in infra-library's `infra.nodes` (kept once given, like meshIp). */
  peerObserver?: {
    id: number;
    wireguardIp: string;
    wireguardPublicKey: string;
    bitcoind: { prune: number; dataDir: string | null; requiresMount: string | null };
  };
  deployment: {
    targetHost: string;
    targetPort: number;
    targetUser: string;
    buildOnTarget: boolean;
    tags: string[];
  };
}

export interface FleetData {
  schema: 1;
  /** hostPrefix: one peer's AllowedIPs (/32 or /128). */
  mesh: { subnet: string; prefix: number; family: 4 | 6; hostPrefix: 32 | 128; port: number; interface: string };
  exporters: { node: number; peerObserver: { wireguard: number; process: number; metrics: number } };
  collector: { host: string; prometheusPort: number; grafanaPort: number };
  hosts: Record<string, FleetDataHost>;
}

export function endpointOf(address: string, port: number): string {
  return isIpv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The previous plan's data in `dir`, or null when there is none (a new fleet). */
export function readFleetData(dir: string): FleetData | null {
  const path = join(dir, FLEET_DATA);
  if (!existsSync(path)) return null;
  let data: FleetData;
  try {
    data = JSON.parse(readFileSync(path, "utf8")) as FleetData;
  } catch (e) {
    throw new UserError(`${FLEET_DATA}: the earlier plan's data cannot be read (${(e as Error).message})`, {
      field: FLEET_DATA,
      hint: `restore it from git (git checkout -- ${FLEET_DATA}): it records the mesh addresses that must not change`,
    });
  }
  if (!data || data.schema !== 1 || typeof data.hosts !== "object" || data.hosts === null)
    throw new UserError(`${FLEET_DATA}: not a fleet plan this version knows (schema 1)`, {
      field: FLEET_DATA,
      hint: `restore it from git (git checkout -- ${FLEET_DATA})`,
    });
  return data;
}
