// Types for desired-network.mjs, which the contract test imports.
import type { HostData } from "../../../../../src/plan/types";

export interface Route {
  destination: string;
  gateway: string;
  onLink: boolean;
}
export interface Lease {
  addresses: string[];
  routes: Route[];
}
export interface DesiredNetwork extends Lease {
  managed: boolean;
  dhcp4: boolean;
}
export function family(address: string): 4 | 6;
export function desiredNetwork(host: HostData, lease: Lease, mac: string): DesiredNetwork;
