// When a static address change needs two stages, what stage 1 carries, and where it is confirmed.
import { describe, expect, it } from "vitest";
import type { HostData, NetInterfacePlan } from "../../../src/plan/types";
import { planAddressChange } from "../../../src/switch/address-stages";
import { baseHost } from "../lockdown/host-fixture";

const iface = (addresses: string[], gateway: string, extra: Partial<NetInterfacePlan> = {}): NetInterfacePlan => ({
  name: "eth0",
  mac: "52:54:00:12:34:56",
  dhcp4: false,
  ipv6AcceptRA: true,
  addresses,
  routes: [{ destination: "0.0.0.0/0", gateway, onLink: false }],
  requiredForOnline: true,
  ...extra,
});
const withNet = (interfaces: NetInterfacePlan[]): HostData => ({ ...baseHost(), network: { interfaces, dns: [] } });

describe("planAddressChange", () => {
  const old = withNet([iface(["203.0.113.7/24", "2001:db8::7/64"], "203.0.113.1")]);

  it("unchanged addresses, or the address in use staying: one stage", () => {
    expect(planAddressChange(old, old, "203.0.113.7")).toBeNull();
    const more = withNet([iface(["203.0.113.7/24", "203.0.113.8/24"], "203.0.113.1")]);
    expect(planAddressChange(old, more, "203.0.113.7")).toBeNull();
  });

  it("a new address: stage 1 carries old and new with the NEW routes, confirmed on the new address", () => {
    const next = withNet([iface(["198.51.100.20/24", "2001:db8::7/64"], "198.51.100.1")]);
    const p = planAddressChange(old, next, "203.0.113.7")!;
    expect(p.confirmAddress).toBe("198.51.100.20");
    expect(p.both.network.interfaces[0]!.addresses).toEqual(["203.0.113.7/24", "2001:db8::7/64", "198.51.100.20/24"]);
    expect(p.both.network.interfaces[0]!.routes).toEqual(next.network.interfaces[0]!.routes);
    // the rest of stage 1 is the new configuration
    expect({ ...p.both, network: next.network }).toEqual(next);
  });

  it("confirms on a new address of the family the operator uses", () => {
    const next = withNet([iface(["2001:db8::99/64", "198.51.100.20/24"], "198.51.100.1")]);
    expect(planAddressChange(old, next, "203.0.113.7")!.confirmAddress).toBe("198.51.100.20");
    expect(planAddressChange(old, next, "2001:db8::7")!.confirmAddress).toBe("2001:db8::99");
  });

  it("a DHCP lease is kept through stage 1, and an interface the new config drops keeps its addresses until stage 2", () => {
    const dhcp = withNet([
      iface([], "203.0.113.1", { dhcp4: true, routes: [] }),
      { ...iface(["10.0.0.2/24"], "10.0.0.1"), name: "eth1" },
    ]);
    const next = withNet([iface(["198.51.100.20/24"], "198.51.100.1")]);
    const p = planAddressChange(dhcp, next, "203.0.113.7")!;
    expect(p.both.network.interfaces.map((i) => [i.name, i.dhcp4, i.addresses])).toEqual([
      ["eth0", true, ["198.51.100.20/24"]],
      ["eth1", false, ["10.0.0.2/24"]],
    ]);
    expect(p.both.network.interfaces[1]!.routes).toEqual([]);
  });
});
