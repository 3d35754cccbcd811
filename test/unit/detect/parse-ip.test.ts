// Every ip-json capture in the shared corpus (values read from each file by hand), the text
// fallbacks, and on-link gateway detection for the static-network cases that lock people out.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  defaultGateway,
  markOnLink,
  parseIpAddrJson,
  parseIpAddrText,
  parseIpRouteJson,
  parseIpRouteText,
} from "../../../src/detect/parse-ip";

import { CORPUS as CORPUS_ROOT, describeWithCorpus } from "../../helpers/corpus";

const CORPUS = `${CORPUS_ROOT}ip-json/`;
const read = (f: string) => readFileSync(CORPUS + f, "utf8");
const ADDR = "workstation-ip-json-addr_cloud-init.json";
const ADDR_DOWN = "workstation-ip-json-addr-down_cloud-init.json";
const ROUTE4 = "workstation-ip-4-route-text_cloud-init.txt";
const ROUTE6 = "workstation-ip-6-route-text_cloud-init.txt";

describeWithCorpus("ip-json corpus, one block per capture", () => {
  it("covers every capture", () => {
    expect(readdirSync(CORPUS).sort()).toEqual([ADDR, ADDR_DOWN, ROUTE4, ROUTE6].sort());
  });

  it(ADDR, () => {
    const ifs = parseIpAddrJson(JSON.parse(read(ADDR)));
    expect(ifs.map((i) => [i.name, i.kind, i.state, i.mac, i.mtu])).toEqual([
      ["lo", "loopback", "unknown", null, 65536],
      ["enp0s25", "ethernet", "up", "50:7b:9d:2c:af:91", 1500],
    ]);
    expect(ifs[1]!.addresses).toEqual([
      { family: 4, address: "192.168.2.18", prefix: 24, scope: "global", dynamic: true },
      { family: 6, address: "fe80::7777:2222:1111:eeee", prefix: 64, scope: "global", dynamic: true },
      { family: 6, address: "fe80::8107:2b92:867e:f8a6", prefix: 64, scope: "link", dynamic: false },
    ]);
  });

  it(ADDR_DOWN, () => {
    const ifs = parseIpAddrJson(JSON.parse(read(ADDR_DOWN)));
    expect(ifs[1]).toMatchObject({ name: "eth0", state: "down", mac: "00:16:3e:de:51:a6", addresses: [] });
  });

  it(ROUTE4, () => {
    const ifs = parseIpAddrJson(JSON.parse(read(ADDR))); // the same workstation
    const routes = markOnLink(parseIpRouteJson(parseIpRouteText(read(ROUTE4)), 4), ifs);
    expect(routes.map((r) => [r.destination, r.gateway, r.dev, r.protocol, r.metric])).toEqual([
      ["default", "192.168.2.1", "enp0s25", "static", 100],
      ["default", "192.168.2.1", "wlp3s0", "static", 150],
      ["192.168.2.0/24", null, "enp0s25", "kernel", 100],
    ]);
    // 192.168.2.1 is inside enp0s25's 192.168.2.18/24; wlp3s0 has no address in the capture
    expect(routes.map((r) => r.onLink)).toEqual([false, true, false]);
    expect(defaultGateway(routes, 4)).toEqual({ address: "192.168.2.1", dev: "enp0s25", onLink: false });
  });

  it(ROUTE6, () => {
    const routes = markOnLink(parseIpRouteJson(parseIpRouteText(read(ROUTE6)), 6), []);
    // the two "local ... table local" entries are not routes of the main table
    expect(routes).toHaveLength(9);
    expect(routes[0]).toMatchObject({
      destination: "2a00:abcd:82ae:cd33::657/128",
      gateway: null,
      protocol: "kernel",
      metric: 256,
    });
    expect(routes[2]).toMatchObject({
      destination: "2a00:abcd:82ae:cd33::/56",
      gateway: "fe80::32ee:54de:cd43:b4e1",
      protocol: "ra",
      onLink: true,
    });
    expect(defaultGateway(routes, 6)).toEqual({ address: "fe80::32ee:54de:cd43:b4e1", dev: "enp0s25", onLink: true });
  });
});

describe("on-link gateways (the static-network cases)", () => {
  // Hetzner Cloud as nixos-infect captured it (corpus/network-nixos-infect): IPv4 /32 with
  // 172.31.1.1 reachable only on-link, IPv6 /64 with default via fe80::1.
  const addr = [
    {
      ifname: "eth0",
      flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
      mtu: 1500,
      operstate: "UP",
      link_type: "ether",
      address: "96:00:01:23:45:67",
      addr_info: [
        { family: "inet", local: "116.203.0.7", prefixlen: 32, scope: "global", valid_life_time: 4294967295 },
        { family: "inet6", local: "2a01:4f8:c17:1234::1", prefixlen: 64, scope: "global", valid_life_time: 4294967295 },
      ],
    },
  ];
  const ifs = parseIpAddrJson(addr);
  it("IPv4 gateway outside a /32 is on-link; IPv6 via fe80::1 is on-link", () => {
    const r4 = markOnLink(
      parseIpRouteJson(
        [
          { dst: "default", gateway: "172.31.1.1", dev: "eth0", flags: [] },
          { dst: "172.31.1.1", dev: "eth0", scope: "link", flags: [] },
        ],
        4,
      ),
      ifs,
    );
    const r6 = markOnLink(
      parseIpRouteJson([{ dst: "default", gateway: "fe80::1", dev: "eth0", metric: 1024, flags: [] }], 6),
      ifs,
    );
    expect(r4[0]).toMatchObject({ gateway: "172.31.1.1", onLink: true });
    expect(r4[1]).toMatchObject({ destination: "172.31.1.1/32", gateway: null });
    expect(r6[0]).toMatchObject({ gateway: "fe80::1", onLink: true });
    expect(ifs[0]!.addresses.every((a) => !a.dynamic)).toBe(true);
  });
  it("the kernel's own onlink flag is kept (JSON and text)", () => {
    expect(
      parseIpRouteJson([{ dst: "default", gateway: "10.0.0.1", dev: "ens3", flags: ["onlink"] }], 4)[0]!.onLink,
    ).toBe(true);
    expect(
      parseIpRouteJson(
        parseIpRouteText("default via 51.68.0.1 dev ens3 proto dhcp src 51.68.1.2 metric 100 onlink"),
        4,
      )[0],
    ).toMatchObject({
      gateway: "51.68.0.1",
      protocol: "dhcp",
      metric: 100,
      onLink: true,
    });
  });
  it("a gateway inside the address's prefix is not on-link", () => {
    const r = markOnLink(
      parseIpRouteJson([{ dst: "default", gateway: "203.0.113.1", dev: "eth0", flags: [] }], 4),
      parseIpAddrJson([{ ifname: "eth0", addr_info: [{ family: "inet", local: "203.0.113.7", prefixlen: 24 }] }]),
    );
    expect(r[0]!.onLink).toBe(false);
  });
});

describe("text ip addr (iproute2 without -j, busybox)", () => {
  const text = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc fq_codel state UP group default qlen 1000
    link/ether 96:00:01:23:45:67 brd ff:ff:ff:ff:ff:ff
    inet 116.203.0.7/32 metric 100 scope global dynamic eth0
       valid_lft 85919sec preferred_lft 85919sec
    inet6 2a01:4f8:c17:1234::1/64 scope global
       valid_lft forever preferred_lft forever
    inet6 fe80::9400:1ff:fe23:4567/64 scope link
       valid_lft forever preferred_lft forever
`;
  it("reads names, MACs, MTU, state and addresses with their lifetimes", () => {
    const ifs = parseIpAddrJson(parseIpAddrText(text));
    expect(ifs.map((i) => [i.name, i.kind, i.state, i.mac, i.mtu])).toEqual([
      ["lo", "loopback", "unknown", null, 65536],
      ["eth0", "ethernet", "up", "96:00:01:23:45:67", 1450],
    ]);
    expect(ifs[1]!.addresses).toEqual([
      { family: 4, address: "116.203.0.7", prefix: 32, scope: "global", dynamic: true },
      { family: 6, address: "2a01:4f8:c17:1234::1", prefix: 64, scope: "global", dynamic: false },
      { family: 6, address: "fe80::9400:1ff:fe23:4567", prefix: 64, scope: "link", dynamic: false },
    ]);
  });
});
