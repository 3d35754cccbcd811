// install --local on a network without DHCP: the address typed at the console becomes the installed
// system's static network, planned exactly as a provider's static machine is.
import { describe, expect, it } from "vitest";
import { loadExample } from "../../../src/facts/examples";
import type { Facts } from "../../../src/facts/types";
import { hasNoAddress, withStaticAddress } from "../../../src/install/local/static-address";
import { planFromFacts } from "../../../src/plan/index";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

/** The example machine as the installer sees it without DHCP: link-local only, no routes. */
function noDhcp(): Facts {
  const f = loadExample("hetzner-cloud");
  return {
    ...f,
    network: {
      ...f.network,
      interfaces: f.network.interfaces.map((i) => ({
        ...i,
        addresses: i.addresses.filter((a) => a.scope !== "global"),
      })),
      routes: [],
      defaultGateway4: null,
      defaultGateway6: null,
      dhcp4: false,
    },
  };
}

const plan = (facts: Facts) =>
  planFromFacts({ facts, config: { hostname: "rack7", ssh: { authorizedKeys: [KEY] } }, interactive: false });

describe("static address at the console", () => {
  it("a machine without an address is recognised; one with an address is not", () => {
    expect(hasNoAddress(noDhcp())).toBe(true);
    expect(hasNoAddress(loadExample("hetzner-cloud"))).toBe(false);
  });

  it("the typed address and gateway become the installed system's static network", () => {
    const net = plan(withStaticAddress(noDhcp(), "192.0.2.7/24 via 192.0.2.1")).host.network;
    const nic = net.interfaces.find((i) => i.addresses.length)!;
    expect(nic.addresses).toEqual(["192.0.2.7/24"]);
    expect(nic.dhcp4).toBe(false);
    expect(nic.routes).toContainEqual({ destination: "0.0.0.0/0", gateway: "192.0.2.1", onLink: false });
  });

  it("a gateway outside the prefix is marked on-link (a /32 as providers hand out)", () => {
    const nic = plan(withStaticAddress(noDhcp(), "203.0.113.7/32 via 172.31.1.1")).host.network.interfaces.find(
      (i) => i.addresses.length,
    )!;
    expect(nic.routes).toContainEqual({ destination: "0.0.0.0/0", gateway: "172.31.1.1", onLink: true });
  });

  it("anything else is refused with the form to type", () => {
    for (const bad of [
      "192.0.2.7",
      "192.0.2.7/24",
      "192.0.2.7/24 via nowhere",
      "2001:db8::7/64 via fe80::1",
      "x; rm -rf /",
    ])
      expect(() => withStaticAddress(noDhcp(), bad)).toThrow(/is not ADDRESS\/PREFIX via GATEWAY/);
  });
});
