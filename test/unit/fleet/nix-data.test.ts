// The fleet's Nix read back with nix-instantiate: every generated .nix parses; the collector's
// Prometheus scrape targets, Grafana data source and the firewall rules evaluate from the generated
// data to what the mesh promises; and the colmena hive's structure, evaluated against a minimal
// STAND-IN of colmena.lib.makeHive (colmena itself cannot run here).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseHostJson } from "../../../src/flake/host-file";
import { stageHostData } from "../../../src/lockdown/host-stages";
import { parseInventory } from "../../../src/fleet/inventory";
import { planFleet, type FleetPlan } from "../../../src/fleet/plan-fleet";
import { inventory, makeOperator, nixEval, planInto, scratch } from "./fleet-fixture";

const HAVE = ["nix-instantiate", "ssh-keygen"].every((c) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : [join(dir, e)]));
}

const MODULE = (file: string, host: string) =>
  `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
       config.age.secrets = { grafana-secret-key.path = "/run/agenix/grafana-secret-key"; grafana-admin-password.path = "/run/agenix/grafana-admin-password"; wireguard-fleet.path = "/run/agenix/wireguard-fleet"; };
       m = import ./fleet/${file} { inherit fleet config; fleetHost = "${host}"; };
   in`;

describe.skipIf(!HAVE)("fleet Nix data (nix-instantiate)", () => {
  const s = scratch();
  const dir = join(s.dir, "fleet");
  let plan: FleetPlan;
  beforeAll(async () => {
    plan = await planInto(dir, inventory(makeOperator(s.dir), ["collector1", "node1", "node2", "node3"]));
  }, 60_000);
  afterAll(() => s.remove());

  it("every generated .nix file parses", () => {
    const nix = walk(dir).filter((f) => f.endsWith(".nix"));
    expect(nix.map((f) => relative(dir, f))).toEqual(
      expect.arrayContaining([
        "flake.nix",
        "fleet/mesh.nix",
        "fleet/hive.nix",
        "fleet/collector.nix",
        "hosts/node3/default.nix",
      ]),
    );
    // one nix-instantiate for all files (it parses each argument; the first error fails the run)
    const r = spawnSync("nix-instantiate", ["--parse", ...nix]);
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(r.stdout.toString().match(/^\{|^\(/gm)?.length ?? 0).toBeGreaterThanOrEqual(nix.length);
  });

  it("Prometheus scrapes exactly the nodes' exporters at their mesh addresses, and listens only on the mesh", () => {
    const nodes = ["node1", "node2", "node3"];
    const r = nixEval(
      `${MODULE("collector.nix", "collector1")} { inherit (m.services.prometheus) listenAddress port; targets = map (c: { t = c.targets; h = c.labels.host; }) (builtins.head m.services.prometheus.scrapeConfigs).static_configs; }`,
      dir,
    ) as { listenAddress: string; port: number; targets: Array<{ t: string[]; h: string }> };
    expect(r.listenAddress).toBe(plan.data.hosts.collector1!.meshIp);
    expect(r.targets.map((x) => x.h).sort()).toEqual(nodes);
    for (const x of r.targets) expect(x.t).toEqual([`${plan.data.hosts[x.h]!.meshIp}:9100`]);
    // the node's exporter listens on the address the collector scrapes
    for (const n of nodes) {
      const e = nixEval(
        `${MODULE("node.nix", n)} { inherit (m.services.prometheus.exporters.node) listenAddress port openFirewall; }`,
        dir,
      );
      expect(e).toEqual({ listenAddress: plan.data.hosts[n]!.meshIp, port: 9100, openFirewall: false });
    }
  });

  it("Grafana: a provisioned Prometheus data source on the mesh, listening only on the mesh, secrets from agenix files", () => {
    const g = nixEval(
      `${MODULE("collector.nix", "collector1")} { ds = m.services.grafana.provision.datasources.settings.datasources; server = m.services.grafana.settings.server; sec = m.services.grafana.settings.security; dash = builtins.pathExists (builtins.head m.services.grafana.provision.dashboards.settings.providers).options.path; }`,
      dir,
    ) as {
      ds: Array<Record<string, unknown>>;
      server: Record<string, unknown>;
      sec: Record<string, string>;
      dash: boolean;
    };
    const ip = plan.data.hosts.collector1!.meshIp;
    expect(g.ds).toEqual([
      { name: "Prometheus", type: "prometheus", uid: "fleet-prometheus", url: `http://${ip}:9090`, isDefault: true },
    ]);
    expect(g.server).toEqual({ http_addr: ip, http_port: 3000 });
    expect(g.sec.admin_password).toBe("$__file{/run/agenix/grafana-admin-password}");
    expect(g.dash).toBe(true);
  });

  it("firewall: the mesh UDP port in every host.json; exporter, Prometheus and Grafana only on the mesh interface", () => {
    for (const n of ["collector1", "node1", "node2", "node3"]) {
      const fw = nixEval(`(builtins.fromJSON (builtins.readFile ./hosts/${n}/host.json)).firewall`, dir) as {
        allowedUDPPorts: number[];
        allowedTCPPorts: number[];
      };
      expect(fw.allowedUDPPorts).toContain(51820);
      for (const p of [9100, 9090, 3000]) expect(fw.allowedTCPPorts).not.toContain(p);
    }
    expect(nixEval(`${MODULE("collector.nix", "collector1")} m.networking.firewall.interfaces`, dir)).toEqual({
      "wg-fleet": { allowedTCPPorts: [9090, 3000] },
    });
    expect(nixEval(`${MODULE("node.nix", "node1")} m.networking.firewall.interfaces`, dir)).toEqual({
      "wg-fleet": { allowedTCPPorts: [9100] },
    });
    const wg = nixEval(
      `${MODULE("mesh.nix", "node1")} let i = m.networking.wireguard.interfaces.wg-fleet; in { inherit (i) ips listenPort privateKeyFile; key = builtins.pathExists m.age.secrets.wireguard-fleet.file; }`,
      dir,
    );
    expect(wg).toEqual({
      ips: [`${plan.data.hosts.node1!.meshIp}/24`],
      listenPort: 51820,
      privateKeyFile: "/run/agenix/wireguard-fleet",
      key: true,
    });
  });

  it("health: every host.json asks switch to check the mesh interface after a switch, on top of its profile's checks", () => {
    for (const n of ["collector1", "node1", "node2", "node3"]) {
      const file = join(dir, `hosts/${n}/host.json`);
      const host = parseHostJson(readFileSync(file, "utf8"), file);
      expect(host.health?.checks).toEqual([
        { kind: "interface", name: "WireGuard mesh", interface: "wg-fleet", timeoutSec: 15 },
      ]);
    }
  });

  it("lockdown keeps the mesh: host.json after both lockdown stages still opens the mesh UDP port, and the hive's targetPort is the locked-down port", () => {
    for (const n of ["collector1", "node1"]) {
      const file = join(dir, `hosts/${n}/host.json`);
      const host = parseHostJson(readFileSync(file, "utf8"), file);
      const port = plan.data.hosts[n]!.deployment.targetPort;
      for (const stage of ["dual-port", "final"] as const) {
        const after = stageHostData(host, stage, { port, operatorAddress: "198.51.100.9", extraIgnoreIP: [] });
        expect(after.firewall.allowedUDPPorts).toContain(51820);
        expect(after.firewall.allowedTCPPorts).toContain(port);
      }
    }
  });

  it("the colmena hive, evaluated against a minimal stand-in of makeHive: deployment settings and tags per host", () => {
    // The stand-in checks what colmena 0.5's makeHive needs (meta.nixpkgs, a deployment per node)
    // and returns the deployment data; host modules are counted, not evaluated (no nixpkgs here).
    const hive = nixEval(
      `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
           makeHive = h: assert h.meta.nixpkgs.system == "x86_64-linux";
             builtins.mapAttrs (n: v: v.deployment // { modules = builtins.length v.imports; pkgs = h.meta.nodeNixpkgs.\${n}.system; })
               (builtins.removeAttrs h [ "meta" ]);
       in makeHive (import ./fleet/hive.nix { inherit fleet; hostModules = n: [ n "mesh" ]; pkgsFor = h: { inherit (h) system; }; })`,
      dir,
    );
    expect(hive).toEqual({
      collector1: {
        targetHost: "203.0.113.10",
        targetPort: 2222,
        targetUser: "root",
        buildOnTarget: false,
        tags: ["collector"],
        modules: 2,
        pkgs: "x86_64-linux",
      },
      node1: {
        targetHost: "203.0.113.11",
        targetPort: 2201,
        targetUser: "admin",
        buildOnTarget: false,
        tags: ["node"],
        modules: 2,
        pkgs: "x86_64-linux",
      },
      node2: {
        targetHost: "2001:db8::12",
        targetPort: 2222,
        targetUser: "root",
        buildOnTarget: false,
        tags: ["node"],
        modules: 2,
        pkgs: "x86_64-linux",
      },
      node3: {
        targetHost: "node3.example.org",
        targetPort: 2222,
        targetUser: "root",
        buildOnTarget: false,
        tags: ["node"],
        modules: 2,
        pkgs: "x86_64-linux",
      },
    });
  });

  it("buildOnTarget: hosts of another architecture than the operator's build themselves, unless the inventory says otherwise", async () => {
    const op = makeOperator(s.dir, "op-arm");
    const inv = inventory(op, ["collector1", "node1"]);
    (inv.hosts as Record<string, Record<string, unknown>>).node1 = { ...inv.hosts.node1, buildOnTarget: false };
    const arm = await planFleet(parseInventory(inv, s.dir), {
      dir: null,
      localSystem: "aarch64-linux",
      today: new Date("2026-11-30"),
    });
    expect(arm.data.hosts.collector1!.deployment.buildOnTarget).toBe(true);
    expect(arm.data.hosts.node1!.deployment.buildOnTarget).toBe(false);
  });

  it("host-modules.nix gives a node node.nix and the collector collector.nix, both with the mesh and the host's folder", () => {
    const mods = nixEval(
      `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
           inputs = { disko.nixosModules.disko = "disko"; agenix.nixosModules.default = "agenix"; };
           show = m: if builtins.isPath m then builtins.baseNameOf (toString m) else if builtins.isString m then m else "args";
       in builtins.mapAttrs (n: _: map show (import ./fleet/host-modules.nix { inherit inputs fleet; } n)) fleet.hosts`,
      dir,
    );
    expect(mods).toEqual({
      collector1: ["disko", "collector1", "mesh.nix", "args", "agenix", "collector.nix"],
      node1: ["disko", "node1", "mesh.nix", "args", "agenix", "node.nix"],
      node2: ["disko", "node2", "mesh.nix", "args", "agenix", "node.nix"],
      node3: ["disko", "node3", "mesh.nix", "args", "agenix", "node.nix"],
    });
  });
});
