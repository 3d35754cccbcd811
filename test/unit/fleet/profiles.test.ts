// peer-observer and nix-bitcoin nodes in a fleet, read back from the generated Nix with
// nix-instantiate: the same pinned inputs and profile modules as a single node of that profile,
// infra-library's own mkNodeConfig/mkModules for peer-observer nodes (their `infra.nodes` from
// fleet.json), the collector scraping infra-library's exporters over the mesh, those ports opened
// on the mesh interface only. With NIXNODE_INFRA_LIBRARY (a checkout) and NIXNODE_NIXOS_OPTIONS,
// each peer-observer node's infra goes through infra-library's real lib.nix and option declarations.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nixBitcoinFlake from "../../../flake-templates/nix-bitcoin/flake.nix?raw";
import peerObserverFlake from "../../../flake-templates/peer-observer/flake.nix?raw";
import nixBitcoinProfile from "../../../flake-templates/nix-bitcoin/profile.nix?raw";
import peerObserverProfile from "../../../flake-templates/peer-observer/profile.nix?raw";
import { parseInventory } from "../../../src/fleet/inventory";
import type { FleetPlan } from "../../../src/fleet/plan-fleet";
import { NIXOS_OPTIONS_DIR, nixosOptionsUnavailable } from "../../helpers/nix-nixos-options";
import { HOSTS, inventory, makeOperator, nixEval, planInto, scratch, type Operator } from "./fleet-fixture";

const HAVE = ["nix-instantiate", "ssh-keygen", "age", "wg"].every(
  (c) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0,
);
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : [join(d, e)]));

function mixedInventory(op: Operator, extra: Record<string, unknown> = {}) {
  const inv = inventory(op, ["collector1", "node1", "node2", "node3"]);
  const hosts = inv.hosts as Record<string, Record<string, unknown>>;
  hosts.node1 = { ...HOSTS.node1, profile: "peer-observer" };
  hosts.node2 = { ...HOSTS.node2, profile: "nix-bitcoin" };
  hosts.node3 = { ...HOSTS.node3, profile: "peer-observer" };
  return { ...inv, ...extra };
}

// fake flake inputs: enough for the module LISTS and nixpkgs choice to evaluate without nixpkgs
const FAKE_INPUTS = `{
  disko.nixosModules.disko = "disko";
  agenix.nixosModules.default = "agenix";
  peer-observer-infra-library.lib = system: {
    mkNodeConfig = n: node: infra: "mkNodeConfig:\${n}:\${toString node.id}:\${system}";
    mkModules = extra: [ "infra-library-modules" ] ++ extra;
  };
}`;

describe.skipIf(!HAVE)("peer-observer and nix-bitcoin nodes in a fleet (nix-instantiate)", () => {
  const s = scratch();
  const dir = join(s.dir, "fleet");
  let plan: FleetPlan;
  beforeAll(async () => {
    plan = await planInto(dir, mixedInventory(makeOperator(s.dir)));
  }, 120_000);
  afterAll(() => s.remove());

  it("every generated .nix parses, and the profile modules are the single-node ones, byte for byte", () => {
    const nix = walk(dir).filter((f) => f.endsWith(".nix"));
    const r = spawnSync("nix-instantiate", ["--parse", ...nix]);
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(readFileSync(join(dir, "fleet/profiles/peer-observer.nix"), "utf8")).toBe(peerObserverProfile);
    expect(readFileSync(join(dir, "fleet/profiles/nix-bitcoin.nix"), "utf8")).toBe(nixBitcoinProfile);
  });

  it("flake.nix pins infra-library and nix-bitcoin exactly as the single-node flakes do", () => {
    const flake = readFileSync(join(dir, "flake.nix"), "utf8");
    const pin = (t: string, repo: string) => new RegExp(`github:${repo}/[0-9a-f]{40}`).exec(t)![0];
    expect(flake).toContain(pin(peerObserverFlake, "peer-observer/infra-library"));
    expect(flake).toContain(pin(nixBitcoinFlake, "fort-nix/nix-bitcoin"));
    expect(flake).toMatch(/inputs\.agenix\.follows = "agenix";/);
  });

  it("each host's modules: infra-library's mkNodeConfig + mkModules for peer-observer, the nix-bitcoin profile, base", () => {
    const mods = nixEval(
      `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
           show = m: if builtins.isPath m then builtins.baseNameOf (toString m) else if builtins.isString m then m else "args";
       in builtins.mapAttrs (n: _: map show (import ./fleet/host-modules.nix { inputs = ${FAKE_INPUTS}; inherit fleet; } n)) fleet.hosts`,
      dir,
    );
    const common = (n: string) => ["disko", n, "mesh.nix", "args"];
    expect(mods).toEqual({
      collector1: [...common("collector1"), "agenix", "collector.nix"],
      node1: [
        ...common("node1"),
        "peer-observer.nix",
        "peer-observer-node.nix",
        "mkNodeConfig:node1:1:x86_64-linux",
        "infra-library-modules",
      ],
      node2: [...common("node2"), "agenix", "node.nix", "nix-bitcoin.nix"],
      node3: [
        ...common("node3"),
        "peer-observer.nix",
        "peer-observer-node.nix",
        "mkNodeConfig:node3:2:x86_64-linux",
        "infra-library-modules",
      ],
    });
  });

  it("a nix-bitcoin node is built with nix-bitcoin's nixpkgs, the others with the fleet's (also in the hive)", () => {
    const r = nixEval(
      `let
         flake = import ./flake.nix;
         sys = tag: { nixosSystem = a: { inherit tag; n = builtins.length a.modules; }; };
         inputs = ${FAKE_INPUTS} // {
           self = { };
           nixpkgs = { lib = sys "fleet"; outPath = "fleet"; };
           nix-bitcoin.inputs.nixpkgs = { lib = sys "nix-bitcoin"; outPath = "nix-bitcoin"; };
           colmena.lib.makeHive = h: h.meta.nodeNixpkgs;
         };
         out = flake.outputs (inputs // { inherit inputs; });
       in { systems = builtins.mapAttrs (_: c: c.tag) out.nixosConfigurations; }`,
      dir,
    );
    expect(r).toEqual({ systems: { collector1: "fleet", node1: "fleet", node2: "nix-bitcoin", node3: "fleet" } });
  });

  it("infra-library's infra for a node: every peer-observer node with a kept id, 10.21.0.<id>, its own key; admin from host.json", () => {
    const infra = nixEval(
      `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
           host = builtins.fromJSON (builtins.readFile ./hosts/node3/host.json);
           i = import ./fleet/peer-observer-infra.nix { inherit fleet host; name = "node3"; };
       in { inherit (i) global webservers; nodes = builtins.mapAttrs (_: n: { inherit (n) id setup wireguard bitcoind; }) i.nodes;
            key = builtins.pathExists (i.agenixSecretsDir + "/wireguard-private-key-node3.age"); }`,
      dir,
    ) as Record<string, any>;
    const pub = (n: string) => readFileSync(join(dir, `keys/${n}/wireguard-private-key-${n}.pub`), "utf8").trim();
    expect(Object.keys(infra.nodes)).toEqual(["node1", "node3"]);
    expect(infra.nodes.node1).toMatchObject({
      id: 1,
      setup: false,
      wireguard: { ip: "10.21.0.1", pubkey: pub("node1") },
    });
    expect(infra.nodes.node3).toMatchObject({
      id: 2,
      setup: false,
      wireguard: { ip: "10.21.0.2", pubkey: pub("node3") },
    });
    expect(infra.nodes.node1.bitcoind.prune).toBe(plan.plans.node1!.bitcoin!.pruneMiB);
    expect(pub("node1")).not.toBe(pub("node3"));
    expect(infra.key).toBe(true);
    expect(infra.webservers).toEqual({});
    expect(infra.global.admin).toEqual({
      username: "admin",
      sshPubKeys: plan.plans.node3!.config.ssh.authorizedKeys,
    });
  });

  it("Prometheus scrapes the node exporter on every node and infra-library's exporters on the peer-observer nodes, at mesh addresses", () => {
    const r = nixEval(
      `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
           config.age.secrets = { grafana-secret-key.path = "/k"; grafana-admin-password.path = "/p"; };
           m = import ./fleet/collector.nix { inherit fleet config; fleetHost = "collector1"; };
       in map (j: { inherit (j) job_name; t = map (c: builtins.head c.targets) j.static_configs; }) m.services.prometheus.scrapeConfigs`,
      dir,
    ) as Array<{ job_name: string; t: string[] }>;
    const ip = (n: string) => plan.data.hosts[n]!.meshIp;
    expect(r).toEqual([
      { job_name: "node", t: ["node1", "node2", "node3"].map((n) => `${ip(n)}:9100`) },
      { job_name: "wireguard", t: [`${ip("node1")}:9586`, `${ip("node3")}:9586`] },
      { job_name: "process-exporter", t: [`${ip("node1")}:9256`, `${ip("node3")}:9256`] },
      { job_name: "peer-observer-metrics", t: [`${ip("node1")}:18282`, `${ip("node3")}:18282`] },
    ]);
  });

  it("a peer-observer node opens infra-library's exporter ports on the mesh interface only; nginx's metrics also on the mesh address", () => {
    const r = nixEval(
      `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
           # the exporters' ports as NixOS and infra-library leave them
           config.services.prometheus.exporters = { node.port = 9100; wireguard.port = 9586; process.port = 9256; };
           m = import ./fleet/peer-observer-node.nix { inherit fleet config; fleetHost = "node1"; };
       in { fw = m.networking.firewall; listen = m.services.nginx.virtualHosts.compressed-peer-observer-metrics.listen;
            ok = builtins.all (a: a.assertion) m.assertions; }`,
      dir,
    );
    expect(r).toEqual({
      fw: { interfaces: { "wg-fleet": { allowedTCPPorts: [9100, 9586, 9256, 18282] } } },
      listen: [{ addr: plan.data.hosts.node1!.meshIp, port: 18282 }],
      ok: true,
    });
    // and not in host.json's public firewall (8333 is bitcoind's, public on purpose)
    for (const n of ["node1", "node2", "node3"]) {
      const fw = JSON.parse(readFileSync(join(dir, `hosts/${n}/host.json`), "utf8")).firewall;
      for (const p of [9100, 9586, 9256, 18282]) expect(fw.allowedTCPPorts).not.toContain(p);
    }
    // a different exporter port on the node fails its assertion instead of a silent scrape gap
    const bad = nixEval(
      `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
           config.services.prometheus.exporters = { node.port = 9100; wireguard.port = 9999; process.port = 9256; };
       in builtins.all (a: a.assertion) (import ./fleet/peer-observer-node.nix { inherit fleet config; fleetHost = "node1"; }).assertions`,
      dir,
    );
    expect(bad).toBe(false);
  });

  it("health: a peer-observer node checks its profile's services and the mesh interface", () => {
    const host = JSON.parse(readFileSync(join(dir, "hosts/node1/host.json"), "utf8"));
    expect(host.health.checks.map((c: { kind: string; name: string }) => `${c.kind}:${c.name}`)).toEqual([
      "tcp:NATS on localhost",
      "tcp:bitcoind RPC on localhost",
      "interface:WireGuard mesh",
    ]);
  });

  it("re-planning keeps the peer-observer ids and keys; the hive tags nodes with their profile", async () => {
    const before = readFileSync(join(dir, "keys/node3/wireguard-private-key-node3.pub"), "utf8");
    const again = await planInto(dir, mixedInventory(makeOperator(s.dir, "op2")));
    expect(again.data.hosts.node3!.peerObserver!.id).toBe(2);
    expect(readFileSync(join(dir, "keys/node3/wireguard-private-key-node3.pub"), "utf8")).toBe(before);
    expect(again.data.hosts.node1!.deployment.tags).toEqual(["node", "peer-observer"]);
    expect(again.data.hosts.node2!.deployment.tags).toEqual(["node", "nix-bitcoin"]);
    expect(again.data.hosts.collector1!.deployment.tags).toEqual(["collector"]);
  });

  it("the wg-peerobserver key decrypts with the node's own SSH host key (real age)", () => {
    const hostKey = execFileSync("age", ["-d", "-i", join(s.dir, "operator"), join(dir, "secrets/node1/host-key.age")]);
    const keyFile = join(s.dir, "node1-host-key");
    writeFileSync(keyFile, hostKey, { mode: 0o600 });
    const priv = execFileSync("age", ["-d", "-i", keyFile, join(dir, "secrets/node1/wireguard-private-key-node1.age")]);
    const pub = execFileSync("wg", ["pubkey"], { input: priv }).toString().trim();
    expect(pub).toBe(readFileSync(join(dir, "keys/node1/wireguard-private-key-node1.pub"), "utf8").trim());
  });

  it("a peer-observer node with an IPv6 mesh is refused (hosts.<name>.profile)", () => {
    expect(() =>
      parseInventory(mixedInventory(makeOperator(s.dir, "op3"), { mesh: { subnet: "fd8a:41c2:7e10:1::/64" } }), s.dir),
    ).toThrow(/^hosts\.node1\.profile: peer-observer nodes need an IPv4 mesh/);
  });
});

const INFRA_LIBRARY = process.env.NIXNODE_INFRA_LIBRARY ?? "";
const INFRA_UNAVAILABLE = !INFRA_LIBRARY
  ? "NIXNODE_INFRA_LIBRARY is not set (a checkout of github:peer-observer/infra-library: see docs/profiles.md)"
  : !existsSync(join(INFRA_LIBRARY, "lib.nix"))
    ? `NIXNODE_INFRA_LIBRARY=${INFRA_LIBRARY} has no lib.nix`
    : nixosOptionsUnavailable();

describe.skipIf(!HAVE || INFRA_UNAVAILABLE !== null)(
  `fleet peer-observer nodes through infra-library's mkNodeConfig and option declarations${INFRA_UNAVAILABLE ? ` (skipped: ${INFRA_UNAVAILABLE})` : ""}`,
  () => {
    const s = scratch();
    const dir = join(s.dir, "fleet");
    beforeAll(async () => {
      await planInto(dir, mixedInventory(makeOperator(s.dir)));
    }, 120_000);
    afterAll(() => s.remove());

    it.each(["node1", "node3"])(
      "%s: infra-library accepts the fleet's infra (no failed assertion), the node runs fully",
      (name) => {
        const expr = `
let
  lib = import ${join(NIXOS_OPTIONS_DIR, "lib")};
  fleet = builtins.fromJSON (builtins.readFile ${dir}/fleet/fleet.json);
  host = builtins.fromJSON (builtins.readFile ${dir}/hosts/${name}/host.json);
  infraLib = import ${join(INFRA_LIBRARY, "lib.nix")} {
    nixpkgs = { }; agenix.nixosModules.default = { }; system = host.system;
    b10c-nix = { packages.\${host.system} = { }; nixosModules.default = { }; };
  };
  infra = import ${dir}/fleet/peer-observer-infra.nix { inherit fleet host; name = ${JSON.stringify(name)}; };
  node = infraLib.mkNodeConfig ${JSON.stringify(name)} infra.nodes.${JSON.stringify(name)} infra;
  c = (lib.evalModules {
    modules = [
      ${join(INFRA_LIBRARY, "modules/infra.nix")}
      ${join(INFRA_LIBRARY, "modules/peer-observer.nix")}
      { options.assertions = lib.mkOption { type = lib.types.listOf lib.types.unspecified; default = [ ]; }; }
      { _module.args.pkgs = { callPackage = _: _: { }; }; }
      { inherit (node) infra peer-observer; }
    ];
  }).config;
in {
  base = { inherit (c.peer-observer.base) name setup; inherit (c.peer-observer.base.wireguard) ip pubkey; };
  nodes = builtins.attrNames c.infra.nodes;
  prune = c.peer-observer.node.bitcoind.prune;
  failed = map (a: a.message) (builtins.filter (a: !a.assertion) c.assertions);
}`;
        const r = JSON.parse(
          execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "--readonly-mode", "-E", expr], {
            encoding: "utf8",
            env: { ...process.env, NIX_STATE_DIR: join(s.dir, "state") },
            stdio: ["ignore", "pipe", "pipe"],
          }),
        );
        const data = JSON.parse(readFileSync(join(dir, "fleet/fleet.json"), "utf8")).hosts[name].peerObserver;
        expect(r.failed).toEqual([]);
        expect(r.base).toEqual({ name, setup: false, ip: data.wireguardIp, pubkey: data.wireguardPublicKey });
        expect(r.nodes).toEqual(["node1", "node3"]);
        expect(r.prune).toBe(data.bitcoind.prune);
      },
    );
  },
);
