// An IPv6 mesh (a unique local /64): addresses by host order like IPv4, kept when a host is added
// anywhere in the list (golden file), WireGuard peers limited to each other's /128, and every
// address that is followed by ":port" written in brackets -- read back from the generated Nix data.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignMeshIps, formatIpv6, meshAddress, parseMeshSubnet } from "../../../src/fleet/mesh-address";
import type { FleetPlan } from "../../../src/fleet/plan-fleet";
import { HOSTS, inventory, makeOperator, nixEval, planInto, scratch } from "./fleet-fixture";

const HAVE = ["nix-instantiate", "ssh-keygen"].every((c) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0);
const SUBNET = "fd8a:41c2:7e10:1::/64";
const GOLDEN = join(__dirname, "../../golden/fleet/ipv6-mesh-addresses.json");

describe("IPv6 mesh addresses", () => {
  it("a /64 in fd00::/8 is accepted and written canonically; its addresses count up from ::1", () => {
    const s = parseMeshSubnet("FD8A:41C2:7E10:0001:0000::/64", "mesh.subnet");
    expect(s).toMatchObject({ cidr: SUBNET, family: 6, prefix: 64 });
    expect(
      assignMeshIps(
        s,
        ["a", "b", "c"].map((name) => ({ name, meshIp: null })),
        {},
      ),
    ).toEqual({
      a: "fd8a:41c2:7e10:1::1",
      b: "fd8a:41c2:7e10:1::2",
      c: "fd8a:41c2:7e10:1::3",
    });
    // the whole /64 is usable (no broadcast address in IPv6), ::0 is not a host address
    expect(meshAddress(s, "fd8a:41c2:7e10:1:ffff:ffff:ffff:ffff")).toBe(2n ** 64n - 1n);
    expect(meshAddress(s, "fd8a:41c2:7e10:1::")).toBeNull();
    expect(meshAddress(s, "fd8a:41c2:7e10:2::1")).toBeNull();
    expect(meshAddress(s, "10.44.0.1")).toBeNull();
  });

  it("RFC 5952 text: the longest zero run is ::, lowercase, no leading zeros", () => {
    expect(formatIpv6(0xfd000000000000000000000000000001n)).toBe("fd00::1");
    expect(formatIpv6(0x20010db8000000010000000000000001n)).toBe("2001:db8:0:1::1");
    expect(formatIpv6(0x20010db8000000000001000000000000n)).toBe("2001:db8:0:0:1::");
    expect(formatIpv6(0x20010db8000000000001000000000001n)).toBe("2001:db8::1:0:0:1");
    expect(formatIpv6(0n)).toBe("::");
  });

  it("refusals name mesh.subnet: not /64, not unique local, host bits, garbage", () => {
    for (const [v, msg] of [
      ["fd8a:41c2:7e10::/48", /exactly one \/64/],
      ["fd8a:41c2:7e10:1::/80", /exactly one \/64/],
      ["2001:db8:1:2::/64", /not a unique local address/],
      ["fe80::/64", /not a unique local address/],
      ["fd8a:41c2:7e10:1::9/64", /host bits set/],
      ["fd8a::1::/64", /not an IPv4 network from \/16 to \/24 or an IPv6 \/64/],
    ] as const)
      expect(() => parseMeshSubnet(v, "mesh.subnet"), v).toThrow(msg);
    expect(() => parseMeshSubnet("fd8a::/48", "mesh.subnet")).toThrow(/^mesh.subnet:/);
  });
});

describe.skipIf(!HAVE)("IPv6 mesh in the generated fleet (nix-instantiate)", () => {
  const s = scratch();
  const dir = join(s.dir, "fleet6");
  let first: FleetPlan;
  let second: FleetPlan;
  beforeAll(async () => {
    const op = makeOperator(s.dir);
    first = await planInto(dir, { ...inventory(op, ["collector1", "node1", "node3"]), mesh: { subnet: SUBNET } });
    // node2 added in the MIDDLE of the list: nobody is renumbered, it takes the next free address
    const inv = inventory(op, ["collector1", "node1", "node3"]);
    const hosts = {
      collector1: inv.hosts.collector1,
      node1: inv.hosts.node1,
      node2: HOSTS.node2,
      node3: inv.hosts.node3,
    };
    second = await planInto(dir, { ...inv, hosts, mesh: { subnet: SUBNET } });
  }, 120_000);
  afterAll(() => s.remove());

  it("adding a host never renumbers the others (golden)", () => {
    const addresses = (p: FleetPlan) => Object.fromEntries(Object.values(p.data.hosts).map((h) => [h.name, h.meshIp]));
    const golden = JSON.parse(readFileSync(GOLDEN, "utf8"));
    expect({ subnet: second.data.mesh.subnet, before: addresses(first), after: addresses(second) }).toEqual(golden);
  });

  const MODULE = (file: string, host: string) =>
    `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
         config.age.secrets = { grafana-secret-key.path = "/k"; grafana-admin-password.path = "/p"; wireguard-fleet.path = "/run/agenix/wireguard-fleet"; };
         m = import ./fleet/${file} { inherit fleet config; fleetHost = "${host}"; };
     in`;

  it("WireGuard: the interface gets its /64 address; each peer is allowed only its own /128", () => {
    const wg = nixEval(
      `${MODULE("mesh.nix", "node1")} let i = m.networking.wireguard.interfaces.wg-fleet; in { inherit (i) ips; peers = map (p: { inherit (p) name allowedIPs endpoint; }) i.peers; }`,
      dir,
    ) as { ips: string[]; peers: Array<{ name: string; allowedIPs: string[]; endpoint: string }> };
    expect(wg.ips).toEqual(["fd8a:41c2:7e10:1::2/64"]);
    expect(wg.peers.map((p) => [p.name, p.allowedIPs])).toEqual([
      ["collector1", ["fd8a:41c2:7e10:1::1/128"]],
      ["node2", ["fd8a:41c2:7e10:1::4/128"]],
      ["node3", ["fd8a:41c2:7e10:1::3/128"]],
    ]);
    // the endpoint is the public address (node2's is IPv6 too: in brackets)
    expect(wg.peers.find((p) => p.name === "node2")!.endpoint).toBe("[2001:db8::12]:51820");
  });

  it("Prometheus scrapes [addr]:9100 and listens on [addr]; exporters listen on [addr]; Grafana on the bare address", () => {
    const r = nixEval(
      `${MODULE("collector.nix", "collector1")} { inherit (m.services.prometheus) listenAddress; targets = map (c: c.targets) (builtins.head m.services.prometheus.scrapeConfigs).static_configs; ds = (builtins.head m.services.grafana.provision.datasources.settings.datasources).url; http = m.services.grafana.settings.server.http_addr; fw = m.networking.firewall.interfaces; }`,
      dir,
    ) as { listenAddress: string; targets: string[][]; ds: string; http: string; fw: unknown };
    expect(r.listenAddress).toBe("[fd8a:41c2:7e10:1::1]");
    expect(r.targets.flat().sort()).toEqual([
      "[fd8a:41c2:7e10:1::2]:9100",
      "[fd8a:41c2:7e10:1::3]:9100",
      "[fd8a:41c2:7e10:1::4]:9100",
    ]);
    expect(r.ds).toBe("http://[fd8a:41c2:7e10:1::1]:9090");
    expect(r.http).toBe("fd8a:41c2:7e10:1::1");
    expect(r.fw).toEqual({ "wg-fleet": { allowedTCPPorts: [9090, 3000] } });
    const e = nixEval(`${MODULE("node.nix", "node3")} m.services.prometheus.exporters.node.listenAddress`, dir);
    expect(e).toBe("[fd8a:41c2:7e10:1::3]");
  });

  it("the README's SSH tunnel to Grafana brackets the IPv6 mesh address", () => {
    expect(readFileSync(join(dir, "README.md"), "utf8")).toContain(
      "-L 3000:[fd8a:41c2:7e10:1::1]:3000 root@203.0.113.10",
    );
  });
});
