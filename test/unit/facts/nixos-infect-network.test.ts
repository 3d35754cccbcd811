// The three real nixos-infect captures from Hetzner Cloud parse into the static network they
// describe: /32 IPv4 with the on-link gateway 172.31.1.1, /64 IPv6 with fe80::1, MAC and DNS.
import { describe, expect, it } from "vitest";
import { gatewayIsOnLink, inPrefix } from "../../../src/util/ip";
import { parseNixosInfectNetwork } from "../../../src/facts/nixos-infect-network";
import { describeWithCorpus } from "../../helpers/corpus";
import { corpusFiles, readCorpus } from "./corpus";

const ROWS: Array<[string, string, string, string | null, number]> = [
  [
    "hetzner-cloud-ipv4-32-ipv6-64_tahoe-lafs-webforge.nix",
    "135.181.155.146",
    "2a01:4f9:c011:b882::1",
    "96:00:04:03:57:eb",
    4,
  ],
  [
    "hetzner-cloud-ipv4-32-ipv6-linklocal-route_xaverhimmelsbach-fry.nix",
    "157.90.157.239",
    "2a01:4f8:1c17:5b17::1",
    "96:00:03:b5:ee:56",
    0,
  ],
  ["hetzner-cloud-ipv4-32-ipv6_etu-vps05.nix", "116.203.56.235", "2a01:4f8:c2c:e040::1", "96:00:00:8b:ad:f6", 4],
];

describeWithCorpus("parseNixosInfectNetwork", () => {
  it("covers every capture", () => {
    expect(ROWS.map((r) => r[0]).sort()).toEqual(corpusFiles("network-nixos-infect"));
  });

  it.each(ROWS)("%s", (file, v4, v6, mac, dnsCount) => {
    const n = parseNixosInfectNetwork(readCorpus(`network-nixos-infect/${file}`));
    expect(n.interfaces).toHaveLength(1);
    const eth0 = n.interfaces[0]!;
    expect(eth0.name).toBe("eth0");
    expect(eth0.mac).toBe(mac);
    expect(eth0.addresses.filter((a) => a.scope === "global").map((a) => `${a.address}/${a.prefix}`)).toEqual([
      `${v4}/32`,
      `${v6}/64`,
    ]);
    expect(n.defaultGateway4).toEqual({ address: "172.31.1.1", dev: "eth0", onLink: true });
    expect(n.defaultGateway6).toEqual({ address: "fe80::1", dev: "eth0", onLink: true });
    expect(n.routes.filter((r) => r.destination === "default").map((r) => [r.family, r.gateway, r.onLink])).toEqual([
      [4, "172.31.1.1", true],
      [6, "fe80::1", true],
    ]);
    expect(n.routes.some((r) => r.destination === "172.31.1.1/32")).toBe(true);
    expect(n.dns).toHaveLength(dnsCount);
    expect(n.dhcp4).toBe(false);
  });
});

describe("prefix arithmetic", () => {
  it.each([
    ["10.0.0.1", "10.0.0.0", 24, true],
    ["10.0.1.1", "10.0.0.0", 24, false],
    ["172.31.1.1", "135.181.155.146", 32, false],
    ["2a01:4f9:c011:b882::ffff", "2a01:4f9:c011:b882::1", 64, true],
    ["2a01:4f9:c011:b883::1", "2a01:4f9:c011:b882::1", 64, false],
    ["::ffff:10.0.0.1", "::ffff:10.0.0.0", 120, true],
    ["10.0.0.1", "::", 0, false],
  ])("%s in %s/%i is %s", (a, net, p, expected) => {
    expect(inPrefix(a, net, p)).toBe(expected);
  });

  it("a gateway inside the prefix is ordinary, outside or link-local is on-link", () => {
    expect(gatewayIsOnLink("203.0.113.1", [{ address: "203.0.113.7", prefix: 24 }])).toBe(false);
    expect(gatewayIsOnLink("172.31.1.1", [{ address: "135.181.155.146", prefix: 32 }])).toBe(true);
    expect(gatewayIsOnLink("fe80::1", [{ address: "fe80::9400:4ff:fe03:57eb", prefix: 64 }])).toBe(true);
  });
});
