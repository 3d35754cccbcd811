// The health checks a profile declares in host.json (health.checks): what `switch` proves before it
// acknowledges a new configuration, on top of "no unit failed by the switch". Ports and addresses
// are the services' own: peer-observer's infra-library runs NATS on 127.0.0.1:4222 and bitcoind's
// RPC on 127.0.0.1:8332 (rpcbind); nix-bitcoin's bitcoind RPC is 127.0.0.1:8332 by default.
import type { HealthCheckSpec, Profile } from "./types";

const BITCOIND_RPC: HealthCheckSpec = {
  kind: "tcp",
  name: "bitcoind RPC on localhost",
  address: "127.0.0.1",
  port: 8332,
  // a restarted bitcoind binds its RPC port early, but stopping the old one can take a while; with
  // the 20 s "starting" wait this stays inside the check's share of the default window (48 s)
  timeoutSec: 20,
};

export const PROFILE_HEALTH_CHECKS: Record<Profile, HealthCheckSpec[]> = {
  base: [],
  "nix-bitcoin": [BITCOIND_RPC],
  "peer-observer": [
    { kind: "tcp", name: "NATS on localhost", address: "127.0.0.1", port: 4222, timeoutSec: 15 },
    BITCOIND_RPC,
  ],
};

/** A fleet host's mesh link (src/fleet: MESH_INTERFACE) must be up after a switch. */
export function meshHealthChecks(iface: string): HealthCheckSpec[] {
  return [{ kind: "interface", name: "WireGuard mesh", interface: iface, timeoutSec: 15 }];
}

/** host.json's `health` for a profile (absent when it declares nothing). */
export function healthFor(checks: HealthCheckSpec[]): { health?: { checks: HealthCheckSpec[] } } {
  return checks.length ? { health: { checks: checks.map((c) => ({ ...c })) } } : {};
}
