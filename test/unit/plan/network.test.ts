// The installed system's network. The static Hetzner captures (nixos-infect output written from a
// live server's `ip`) are read here independently of the product's own parsers; the plan built from
// facts holding those addresses must reproduce every address, prefix and gateway, with the gateways
// marked on-link, and the generated network.nix must turn it into matching networkd units.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadExample } from "../../../src/facts/examples";
import type { Address, Facts } from "../../../src/facts/types";
import { FALLBACK_DNS, planNetwork } from "../../../src/plan/network";
import { corpusDir, describeWithCorpus } from "../../helpers/corpus";
import { CORPUS, iface, makeFacts } from "./fixtures";
import { NIX_INSTANTIATE, NO_NIX_REASON, evalModule } from "./nix-eval";

const NETWORK_NIX = fileURLToPath(new URL("../../../flake-templates/base/hosts/network.nix", import.meta.url));
const DIR = `${CORPUS}network-nixos-infect/`;

interface Capture {
  file: string;
  mac: string;
  v4: Array<{ address: string; prefix: number }>;
  v6: Array<{ address: string; prefix: number }>;
  gw4: string;
  gw6: string;
  dns: string[];
}

/** Reads a nixos-infect networking.nix with plain regexes (its format is fixed by nixos-infect). */
function readCapture(file: string): Capture {
  const text = readFileSync(DIR + file, "utf8");
  const block = (fam: "ipv4" | "ipv6") => {
    const m = new RegExp(`${fam}\\.addresses = \\[([\\s\\S]*?)\\];`).exec(text);
    return [...(m?.[1] ?? "").matchAll(/address\s*=\s*"([^"]+)";\s*prefixLength\s*=\s*(\d+);/g)].map((x) => ({
      address: x[1]!,
      prefix: Number(x[2]),
    }));
  };
  const gw = (name: string) => new RegExp(`${name} = (?:\\{\\s*address = )?"([^"]+)"`).exec(text)?.[1] ?? "";
  return {
    file,
    mac: /ATTR\{address\}=="([0-9a-f:]+)"/.exec(text)![1]!,
    v4: block("ipv4"),
    v6: block("ipv6"),
    gw4: gw("defaultGateway"),
    gw6: gw("defaultGateway6"),
    dns: [...(/nameservers = \[([\s\S]*?)\];/.exec(text)?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((x) => x[1]!),
  };
}

/** Facts as the probe reports such a live machine: static addresses, routes without the on-link flag. */
function factsFor(c: Capture): Facts {
  const addr = (family: 4 | 6, a: { address: string; prefix: number }): Address => ({
    family,
    address: a.address,
    prefix: a.prefix,
    scope: a.address.startsWith("fe80:") ? "link" : "global",
    dynamic: false,
  });
  return makeFacts({
    network: {
      interfaces: [iface("eth0", c.mac, [...c.v4.map((a) => addr(4, a)), ...c.v6.map((a) => addr(6, a))])],
      routes: [
        {
          family: 4,
          destination: "default",
          gateway: c.gw4,
          dev: "eth0",
          onLink: false,
          protocol: "static",
          metric: null,
        },
        {
          family: 6,
          destination: "default",
          gateway: c.gw6,
          dev: "eth0",
          onLink: false,
          protocol: "static",
          metric: 1024,
        },
        {
          family: 6,
          destination: `${c.v6[0]!.address}/64`,
          gateway: null,
          dev: "eth0",
          onLink: false,
          protocol: "kernel",
          metric: 256,
        },
      ],
      defaultGateway4: { address: c.gw4, dev: "eth0", onLink: false },
      defaultGateway6: { address: c.gw6, dev: "eth0", onLink: false },
      dns: c.dns,
      dhcp4: false,
    },
  });
}

const captures = corpusDir("network-nixos-infect")
  .filter((f) => f.endsWith(".nix"))
  .map(readCapture);

describeWithCorpus("static networks from real Hetzner captures are reproduced", () => {
  it("found the captures", () => expect(captures.length).toBeGreaterThanOrEqual(3));

  it.each(captures.map((c) => [c.file, c] as const))("%s", (_f, c) => {
    const notes: string[] = [];
    const plan = planNetwork(factsFor(c), notes);
    expect(plan.interfaces).toHaveLength(1);
    const i = plan.interfaces[0]!;
    expect(i.mac).toBe(c.mac);
    expect(i.dhcp4).toBe(false);
    expect(i.ipv6AcceptRA).toBe(false);
    const globals = [...c.v4, ...c.v6]
      .filter((a) => !a.address.startsWith("fe80:"))
      .map((a) => `${a.address}/${a.prefix}`);
    expect(i.addresses).toEqual(globals);
    expect(c.gw4).toBe("172.31.1.1");
    expect(i.routes).toEqual([
      { destination: "0.0.0.0/0", gateway: c.gw4, onLink: true },
      { destination: "::/0", gateway: c.gw6, onLink: true },
    ]);
    if (c.dns.length) expect(plan.dns).toEqual(c.dns);
    else {
      expect(plan.dns).toEqual(FALLBACK_DNS);
      expect(notes.join("\n")).toMatch(/no usable DNS server/);
    }
  });

  it.skipIf(!NIX_INSTANTIATE)(
    `network.nix turns the plan into networkd units (real nix-instantiate)${NIX_INSTANTIATE ? "" : `: skipped, ${NO_NIX_REASON}`}`,
    () => {
      const c = captures[0]!;
      const network = planNetwork(factsFor(c));
      const units = evalModule(NETWORK_NIX, { network }, "systemd.network.networks") as Record<
        string,
        Record<string, unknown>
      >;
      expect(Object.keys(units)).toEqual(["10-eth0"]);
      const u = units["10-eth0"]!;
      expect(u.matchConfig).toEqual({ MACAddress: c.mac });
      expect(u.networkConfig).toEqual({ DHCP: "no", IPv6AcceptRA: false });
      expect(u.address).toEqual(network.interfaces[0]!.addresses);
      expect(u.routes).toEqual([
        { Destination: "0.0.0.0/0", Gateway: "172.31.1.1", GatewayOnLink: true },
        { Destination: "::/0", Gateway: "fe80::1", GatewayOnLink: true },
      ]);
      expect(evalModule(NETWORK_NIX, { network }, "networking.nameservers")).toEqual(c.dns);
      expect(evalModule(NETWORK_NIX, { network }, "networking.useDHCP")).toBe(false);
    },
  );
});

describeWithCorpus("the hetzner-cloud example machine", () => {
  it("plans the same network as the capture it was built from", () => {
    const facts = loadExample("hetzner-cloud");
    const plan = planNetwork(facts);
    const c = captures.find((x) => x.mac === plan.interfaces[0]?.mac);
    expect(c, "the example's MAC matches one of the corpus captures").toBeDefined();
    expect(plan.interfaces[0]!.addresses).toEqual(
      [...c!.v4, ...c!.v6].filter((a) => !a.address.startsWith("fe80:")).map((a) => `${a.address}/${a.prefix}`),
    );
    expect(plan.interfaces[0]!.routes.map((r) => [r.gateway, r.onLink])).toEqual([
      ["172.31.1.1", true],
      ["fe80::1", true],
    ]);
  });
});

describe("DHCP and the other shapes a probe reports", () => {
  it("keeps DHCP where the target used DHCP, and drops the 127.0.0.53 stub resolver", () => {
    const notes: string[] = [];
    const plan = planNetwork(makeFacts(), notes);
    expect(plan.interfaces).toEqual([
      {
        name: "eth0",
        mac: "52:54:00:12:34:56",
        dhcp4: true,
        ipv6AcceptRA: true,
        addresses: [],
        routes: [],
        requiredForOnline: true,
      },
    ]);
    expect(plan.dns).toEqual([]);
    expect(notes.join("\n")).toMatch(/resolver stub/);
  });

  it("IPv4 by DHCP with a static IPv6 (Hetzner Cloud under cloud-init)", () => {
    const base = makeFacts();
    const eth0 = base.network.interfaces[0]!;
    eth0.addresses.push({ family: 6, address: "2a01:4f8:c012:1::1", prefix: 64, scope: "global", dynamic: false });
    base.network.routes.push({
      family: 6,
      destination: "default",
      gateway: "fe80::1",
      dev: "eth0",
      onLink: false,
      protocol: "static",
      metric: 1024,
    });
    base.network.defaultGateway6 = { address: "fe80::1", dev: "eth0", onLink: false };
    const i = planNetwork(base).interfaces[0]!;
    expect(i).toMatchObject({
      dhcp4: true,
      ipv6AcceptRA: false,
      addresses: ["2a01:4f8:c012:1::1/64"],
      routes: [{ destination: "::/0", gateway: "fe80::1", onLink: true }],
    });
  });

  it("a gateway inside the prefix is not on-link; extra static routes are kept; SLAAC stays automatic", () => {
    const f = makeFacts({
      network: {
        interfaces: [
          iface("ens3", "fa:16:3e:00:00:01", [
            { family: 4, address: "203.0.113.50", prefix: 24, scope: "global", dynamic: false },
            { family: 6, address: "2001:db8:1::50", prefix: 64, scope: "global", dynamic: true },
          ]),
          iface("ens4", "fa:16:3e:00:00:02", []),
        ],
        routes: [
          {
            family: 4,
            destination: "default",
            gateway: "203.0.113.1",
            dev: "ens3",
            onLink: false,
            protocol: "static",
            metric: null,
          },
          {
            family: 4,
            destination: "10.8.0.0/16",
            gateway: "203.0.113.254",
            dev: "ens3",
            onLink: false,
            protocol: "static",
            metric: null,
          },
          {
            family: 6,
            destination: "default",
            gateway: "fe80::1",
            dev: "ens3",
            onLink: false,
            protocol: "ra",
            metric: 1024,
          },
        ],
        defaultGateway4: { address: "203.0.113.1", dev: "ens3", onLink: false },
        defaultGateway6: { address: "fe80::1", dev: "ens3", onLink: false },
        dns: ["203.0.113.2"],
        dhcp4: false,
      },
    });
    const plan = planNetwork(f);
    expect(plan.interfaces.map((i) => i.name)).toEqual(["ens3"]);
    expect(plan.interfaces[0]).toEqual({
      name: "ens3",
      mac: "fa:16:3e:00:00:01",
      dhcp4: false,
      ipv6AcceptRA: true,
      addresses: ["203.0.113.50/24"],
      routes: [
        { destination: "0.0.0.0/0", gateway: "203.0.113.1", onLink: false },
        { destination: "10.8.0.0/16", gateway: "203.0.113.254", onLink: false },
      ],
      requiredForOnline: true,
    });
    expect(plan.dns).toEqual(["203.0.113.2"]);
  });

  it.skipIf(!NIX_INSTANTIATE)(
    "without MACs or addresses (a nixos-facter report): DHCP on every wired interface, by type",
    () => {
      const f = makeFacts();
      f.network.interfaces = [{ ...f.network.interfaces[0]!, mac: null, addresses: [] }];
      const notes: string[] = [];
      const network = planNetwork(f, notes);
      expect(network.interfaces).toEqual([
        {
          name: "ethernet",
          mac: "",
          dhcp4: true,
          ipv6AcceptRA: true,
          addresses: [],
          routes: [],
          requiredForOnline: true,
        },
      ]);
      expect(notes.join("\n")).toMatch(/DHCP on every wired interface/);
      const units = evalModule(NETWORK_NIX, { network }, "systemd.network.networks") as Record<
        string,
        { matchConfig: unknown; linkConfig: unknown }
      >;
      // as NixOS's own 99-ethernet-default-dhcp: physical ports only (virtual links have a Kind)
      expect(units["10-ethernet"]!.matchConfig).toEqual({ Type: "ether", Kind: "!*" });
      expect(units["10-ethernet"]!.linkConfig).toEqual({ RequiredForOnline: "routable" });
      // one unit, many ports: any one of them online is enough (NixOS does this only with useDHCP)
      expect(evalModule(NETWORK_NIX, { network }, "systemd.network.wait-online.anyInterface")).toBe(true);
    },
  );

  it("an address on a bridge is not silently dropped: a note names it", () => {
    const f = makeFacts();
    f.network.interfaces.push({
      name: "vmbr0",
      mac: "52:54:00:aa:bb:cc",
      driver: null,
      state: "up",
      mtu: 1500,
      kind: "bridge",
      addresses: [{ family: 4, address: "198.51.100.40", prefix: 24, scope: "global", dynamic: false }],
    });
    const notes: string[] = [];
    planNetwork(f, notes);
    expect(notes.join("\n")).toMatch(
      /vmbr0 \(bridge\) holds 198\.51\.100\.40\/24, but bonds, bridges and VLANs are not carried over/,
    );
  });
});

// systemd-networkd-wait-online waits for every link whose unit says RequiredForOnline (and, with
// anyInterface, for any one of them). A BMC port or an uncabled second NIC that is "required" holds
// the boot for 120 s and fails the unit; a lockdown switch that restarts networkd can then roll back.
describe("boot waits only for the interface that carries the default route", () => {
  const v4 = (address: string, prefix: number) => ({
    family: 4 as const,
    address,
    prefix,
    scope: "global" as const,
    dynamic: false,
  });
  function twoPorts(defaultDev: string | null) {
    return makeFacts({
      network: {
        interfaces: [
          iface("eno1", "0c:c4:7a:00:00:01", [v4("198.51.100.7", 26)]),
          iface("eno2", "0c:c4:7a:00:00:02", [v4("10.0.5.7", 24)]),
        ],
        routes: defaultDev
          ? [
              {
                family: 4,
                destination: "default",
                gateway: "198.51.100.1",
                dev: defaultDev,
                onLink: false,
                protocol: "static",
                metric: null,
              },
            ]
          : [],
        defaultGateway4: defaultDev ? { address: "198.51.100.1", dev: defaultDev, onLink: false } : null,
        defaultGateway6: null,
        dns: ["198.51.100.2"],
        dhcp4: false,
      },
    });
  }

  it("public port with the default route required, the private port not", () => {
    const plan = planNetwork(twoPorts("eno1"));
    expect(plan.interfaces.map((i) => [i.name, i.requiredForOnline])).toEqual([
      ["eno1", true],
      ["eno2", false],
    ]);
  });

  it("no default route captured: all required, and any one of them online suffices", () => {
    const plan = planNetwork(twoPorts(null));
    expect(plan.interfaces.map((i) => i.requiredForOnline)).toEqual([true, true]);
  });

  it("a DHCP port whose default route came by DHCP is the one required (MACs known, no addresses)", () => {
    const f = twoPorts("eno2");
    f.network.interfaces = f.network.interfaces.map((i) => ({ ...i, addresses: [] }));
    f.network.routes = [];
    const plan = planNetwork(f);
    expect(plan.interfaces.map((i) => [i.name, i.dhcp4, i.requiredForOnline])).toEqual([
      ["eno1", true, false],
      ["eno2", true, true],
    ]);
  });

  it.skipIf(!NIX_INSTANTIATE)("network.nix: RequiredForOnline per unit, anyInterface only when needed", () => {
    const units = (network: unknown) =>
      evalModule(NETWORK_NIX, { network }, "systemd.network.networks") as Record<
        string,
        { linkConfig: { RequiredForOnline: string } }
      >;
    const any = (network: unknown) => evalModule(NETWORK_NIX, { network }, "systemd.network.wait-online.anyInterface");
    const one = planNetwork(twoPorts("eno1"));
    expect(Object.entries(units(one)).map(([n, u]) => [n, u.linkConfig.RequiredForOnline])).toEqual([
      ["10-eno1", "routable"],
      ["10-eno2", "no"],
    ]);
    expect(any(one)).toBe(false);
    const unknown = planNetwork(twoPorts(null));
    expect(Object.values(units(unknown)).map((u) => u.linkConfig.RequiredForOnline)).toEqual(["routable", "routable"]);
    expect(any(unknown)).toBe(true);
    // host.json written before requiredForOnline existed: the interface stays required, as it was
    const old = { ...one, interfaces: one.interfaces.map(({ requiredForOnline: _r, ...rest }) => rest) };
    expect(Object.values(units(old)).map((u) => u.linkConfig.RequiredForOnline)).toEqual(["routable", "routable"]);
  });
});
