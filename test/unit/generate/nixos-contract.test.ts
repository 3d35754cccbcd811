// The stand-in's contract (TESTING.md "Stand-ins have contracts"): for every host.json the suite
// uses, what the test NixOS personality applies (desired.mjs, which activate.mjs writes into
// sshd_config, iptables and jail.local) equals what nixnode.nix (+ lockdown.nix) configure, evaluated
// by real Nix (nix-instantiate) and merged with the module system's priorities. Real NixOS itself
// cannot run here: NixOS's own derivations (option defaults, openFirewall, the sshd jail) are taken
// from nixpkgs' modules in nix-module-config.ts, and nixos-options.test.ts checks the option names.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXAMPLES, loadExample } from "../../../src/facts/examples";
import { stageHostData } from "../../../src/lockdown/host-stages";
import { planFromFacts } from "../../../src/plan/index";
import type { HostData } from "../../../src/plan/types";
import {
  evalTaggedModulesBatch,
  hostPathsRead,
  leafPaths,
  mergeModules,
  nixosView,
  recordingHost,
  type ContractView,
} from "../../helpers/nix-module-config";
import { labHostData } from "../../system/lockdown/fixture";
import {
  desiredFail2ban,
  desiredFirewall,
  desiredSshdSettings,
  initialHostData,
} from "../../targets/personalities/nixos/lib/desired.mjs";
import { desiredNetwork } from "../../targets/personalities/nixos/lib/desired-network.mjs";
import { NIX_INSTANTIATE, NO_NIX_REASON } from "../plan/nix-eval";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NIXNODE = join(ROOT, "flake-templates/base/hosts/nixnode.nix");
const LOCKDOWN = join(ROOT, "flake-templates/base/hosts/lockdown.nix");
const NETWORK = join(ROOT, "flake-templates/base/hosts/network.nix");
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILuCJs5GYIJVfjenV0Xtq7+xpK/uAjFnkdAJjD0ZzEAC alice@laptop";
const FINGERPRINT = "SHA256:" + "A".repeat(43);

/** Every host.json file in the test tree (golden flakes, fixtures): a new one is picked up. */
function hostJsonFiles(): string[] {
  const testDir = join(ROOT, "test");
  return (readdirSync(testDir, { recursive: true }) as string[])
    .filter((p) => p.endsWith("host.json") && !p.includes("node_modules"))
    .map((p) => join(testDir, p))
    .sort();
}

/** The host.json each source of the suite starts from, before any lockdown. */
function baseHosts(): Array<{ name: string; host: HostData }> {
  const hosts = hostJsonFiles().map((f) => ({
    name: f
      .slice(ROOT.length)
      .replace(/^test\/golden\/flakes\//, "golden ")
      .replace(/\/host\.json$/, ""),
    host: JSON.parse(readFileSync(f, "utf8")) as HostData,
  }));
  // test/system/lockdown: the lab every lockdown system test starts from
  hosts.push({ name: "lockdown lab", host: labHostData("lab1", KEY, FINGERPRINT, 5) });
  // no fixture has these yet; both sides handle them: an admin user and an open UDP port (WireGuard)
  const edge = labHostData("lab2", KEY, FINGERPRINT, 3);
  hosts.push({
    name: "lockdown lab with an admin user and a UDP port",
    host: {
      ...edge,
      ssh: { ...edge.ssh, adminUser: "op" },
      firewall: { ...edge.firewall, allowedUDPPorts: [51820] },
    },
  });
  // switch's health.checks (every kind): Nix reads host.json with them and ignores them
  const withChecks = labHostData("lab3", KEY, FINGERPRINT, 5);
  hosts.push({
    name: "lockdown lab with health.checks of every kind",
    host: {
      ...withChecks,
      health: {
        checks: [
          { kind: "tcp", name: "NATS", address: "127.0.0.1", port: 4222, timeoutSec: 15 },
          { kind: "unit", unit: "nats.service" },
          { kind: "interface", interface: "wg-fleet" },
          { kind: "http", url: "http://[::1]:8080/health", status: 200 },
        ],
      },
    },
  });
  // test/system/install: the install fixture's nixnode.json, planned for every bundled machine
  // (a machine the preflight refuses gets no host.json)
  for (const example of Object.keys(EXAMPLES)) {
    const facts = loadExample(example);
    if (facts.memory.totalBytes < 1024 * 1024 * 1024) continue;
    const plan = planFromFacts({
      facts,
      config: { hostname: "node1", ssh: { authorizedKeys: [KEY] } },
      interactive: false,
    });
    hosts.push({ name: `install fixture on ${example}`, host: plan.host });
  }
  // the personality's generation 1 without a host.json: read from the target's sshd_config
  hosts.push({ name: "personality generation 1 (Debian sshd_config)", host: initialHostData("#Port 22\n", "t1") });
  hosts.push({
    name: "personality generation 1 (hardened sshd_config)",
    host: initialHostData("Port 2222\nPasswordAuthentication no\nPermitRootLogin prohibit-password\n", "t1"),
  });
  return hosts;
}

interface Case {
  name: string;
  host: HostData;
  lockdown: boolean;
}

/** Each base host as the flake has it, and as the lockdown's two stages write it (with lockdown.nix). */
function cases(): Case[] {
  const out: Case[] = [];
  const stage = { port: 2222, operatorAddress: "203.0.113.7", extraIgnoreIP: ["198.51.100.0/24"] };
  for (const { name, host } of baseHosts()) {
    out.push({ name: `${name}`, host, lockdown: host.lockdown?.stage !== "none" });
    const s1 = stageHostData(host, "dual-port", stage);
    const s2 = stageHostData(s1, "final", stage);
    out.push({ name: `${name}, lockdown stage 1`, host: s1, lockdown: true });
    out.push({ name: `${name}, lockdown stage 2`, host: s2, lockdown: true });
    // the personality system test builds a stage-1 host.json in a flake without lockdown.nix
    out.push({ name: `${name}, stage-1 data without lockdown.nix`, host: s1, lockdown: false });
  }
  return out;
}

const modulesFor = (c: { lockdown: boolean }) => (c.lockdown ? [NIXNODE, LOCKDOWN] : [NIXNODE]);

/** The personality's side, in the same shape as the NixOS side. */
function personalityView(host: HostData, lockdown: boolean): ContractView {
  return {
    sshd: desiredSshdSettings(host, { lockdown }),
    firewall: desiredFirewall(host, { lockdown }),
    fail2ban: desiredFail2ban(host),
  };
}

/** Order and repeats mean nothing to sshd, iptables or fail2ban; what a disabled unit would use neither. */
function normalize(v: ContractView): unknown {
  const set = <T>(xs: T[]) => [...new Set(xs)].sort();
  // no keys and no authorized_keys.d file are the same to sshd (NixOS writes none for a user without keys)
  const keys = Object.fromEntries(
    Object.entries(v.sshd.authorizedKeys)
      .filter(([, k]) => k.length > 0)
      .map(([u, k]) => [u, set(k)]),
  );
  return {
    sshd: { ...v.sshd, ports: set(v.sshd.ports), authorizedKeys: keys },
    firewall: v.firewall.enable
      ? {
          enable: true,
          allowedTCPPorts: set(v.firewall.allowedTCPPorts),
          allowedUDPPorts: set(v.firewall.allowedUDPPorts),
        }
      : { enable: false },
    fail2ban: v.fail2ban.enable ? { ...v.fail2ban, ignoreIP: set(v.fail2ban.ignoreIP) } : { enable: false },
  };
}

// Options the modules set that the personality reproduces by construction (its sshd is a plain
// service with only the ed25519 host key) or on purpose does not emulate; any other option under
// sshd, firewall, fail2ban or a user's SSH access fails the test until desired.mjs handles it.
const BY_CONSTRUCTION: Record<string, unknown> = {
  "services.openssh.startWhenNeeded": false,
  "services.openssh.hostKeys": [{ path: "/etc/ssh/ssh_host_ed25519_key", type: "ed25519" }],
};
const IN_VIEW = [
  /^services\.openssh\.(enable|ports|openFirewall)$/,
  /^services\.openssh\.settings\.(PasswordAuthentication|KbdInteractiveAuthentication|PermitRootLogin|AllowUsers)$/,
  /^networking\.firewall\.(enable|allowedTCPPorts|allowedUDPPorts)$/,
  /^services\.fail2ban\.(enable|maxretry|bantime|bantime-increment\.enable|ignoreIP|jails\.sshd\.settings\.mode)$/,
  /^users\.users\.[^.]+\.openssh\.authorizedKeys\.keys$/,
];
// The admin account itself (isNormalUser, wheel, sudo without password) is not created on the test
// target: the tests log in as root; its authorized keys are part of the view above.
const NOT_EMULATED = [/^users\.users\.[^.]+\.(isNormalUser|extraGroups)$/, /^security\.sudo\.wheelNeedsPassword$/];
const WATCHED = /^(services\.openssh|networking\.firewall|services\.fail2ban|users\.users|security\.sudo)\./;

// host.json fields nixnode.nix reads for things the personality does not emulate (they are not
// sshd, firewall or fail2ban): the NixOS system identity.
const OUTSIDE_CONTRACT = ["hostname", "timezone", "stateVersion", "system"];

const CASES = cases();
// one nix-instantiate run for every case (one per case took ~0.5 s each)
let evaluated: Map<Case, Array<{ file: string; config: unknown }>> | undefined;
function modulesOf(c: Case) {
  if (!evaluated) {
    const all = evalTaggedModulesBatch(CASES.map((x) => ({ files: modulesFor(x), hostJson: x.host })));
    evaluated = new Map(CASES.map((x, i) => [x, all[i] ?? []]));
  }
  return evaluated.get(c) ?? [];
}

describe.skipIf(!NIX_INSTANTIATE)(
  `the NixOS personality applies what nixnode.nix and lockdown.nix declare (modules evaluated by nix-instantiate; NixOS itself cannot run here)${NIX_INSTANTIATE ? "" : ` (skipped: ${NO_NIX_REASON})`}`,
  () => {
    it("covers the suite's host.json sources: golden flakes, the lockdown lab, the install fixture, generation 1", () => {
      const names = CASES.map((c) => c.name);
      expect(hostJsonFiles().length).toBeGreaterThanOrEqual(6);
      expect(names).toContain("lockdown lab, lockdown stage 2");
      expect(names.filter((n) => n.startsWith("install fixture on")).length).toBeGreaterThanOrEqual(4);
    });

    it.each(CASES.map((c) => [`${c.name} (${c.lockdown ? "nixnode.nix + lockdown.nix" : "nixnode.nix"})`, c] as const))(
      "%s: sshd, firewall and fail2ban agree",
      (_title, c) => {
        const merged = mergeModules(modulesOf(c));
        expect(normalize(personalityView(c.host, c.lockdown))).toEqual(normalize(nixosView(merged)));
        for (const [path, value] of merged) {
          if (!WATCHED.test(path)) continue;
          if (path in BY_CONSTRUCTION) {
            expect(value, path).toEqual(BY_CONSTRUCTION[path]);
            continue;
          }
          const known = IN_VIEW.some((r) => r.test(path)) || NOT_EMULATED.some((r) => r.test(path));
          expect(known, `${path} is set by the modules but the personality does not apply it (desired.mjs)`).toBe(true);
        }
      },
    );

    it("eth0's addresses, routes and DHCP agree with network.nix's systemd-networkd unit for every interface (the switch's address tests rely on it)", () => {
      const lab = labHostData("lab3", KEY, FINGERPRINT, 5);
      const iface = (mac: string, dhcp4: boolean, addresses: string[], gateway: string, onLink: boolean) => ({
        name: "eth0",
        mac,
        dhcp4,
        ipv6AcceptRA: false,
        addresses,
        routes: [{ destination: "0.0.0.0/0", gateway, onLink }],
        requiredForOnline: true,
      });
      const withNet = (interfaces: HostData["network"]["interfaces"]): HostData => ({
        ...lab,
        network: { interfaces, dns: [] },
      });
      const hosts = [
        ...CASES.map((c) => c.host).filter((h) => h.network.interfaces.length > 0),
        // test/system/switch/address.test.ts: the harness address written down, then a /32 with an on-link gateway
        withNet([iface("", false, ["10.231.0.2/30"], "10.231.0.1", false)]),
        withNet([iface("", false, ["10.231.0.6/32"], "10.231.0.5", true)]),
        // stage 1 of a change away from DHCP: the lease kept beside the new static address
        withNet([iface("52:54:00:12:34:56", true, ["198.51.100.20/24"], "198.51.100.1", false)]),
      ];
      expect(hosts.length).toBeGreaterThanOrEqual(4);
      const evaluated = evalTaggedModulesBatch(hosts.map((h) => ({ files: [NETWORK], hostJson: h })));
      const lease = { addresses: [], routes: [] };
      let compared = 0;
      hosts.forEach((host, i) => {
        const merged = mergeModules(evaluated[i] ?? []);
        for (const ifc of host.network.interfaces) {
          const unit = `systemd.network.networks.10-${ifc.name}`;
          const mac = ifc.mac || "02:00:00:00:00:01";
          // the NixOS unit for this interface matches eth0 by its MAC, or every wired port
          expect(merged.get(`${unit}.matchConfig.MACAddress`) ?? merged.get(`${unit}.matchConfig.Type`)).toBe(
            ifc.mac || "ether",
          );
          const routes = (merged.get(`${unit}.routes`) as Array<Record<string, unknown>>).map((r) => ({
            destination: r.Destination,
            gateway: r.Gateway,
            onLink: r.GatewayOnLink,
          }));
          const nixos = {
            managed: true,
            dhcp4: merged.get(`${unit}.networkConfig.DHCP`) === "ipv4",
            addresses: merged.get(`${unit}.address`),
            routes,
          };
          // the first interface whose MAC matches is the one the personality applies
          if (host.network.interfaces.find((x) => x.mac === "" || x.mac.toLowerCase() === mac.toLowerCase()) !== ifc)
            continue;
          expect(desiredNetwork(host, lease, mac), `${host.hostname} ${ifc.name}`).toEqual(nixos);
          compared++;
        }
      });
      expect(compared).toBeGreaterThanOrEqual(hosts.length);
    });

    it("both sides read the same host.json fields (a new field on either side fails here)", () => {
      const jsRead = new Set<string>();
      for (const c of CASES) {
        const r = recordingHost(structuredClone(c.host));
        personalityView(r.host, c.lockdown);
        for (const p of r.read) jsRead.add(p);
      }
      const nixRead = new Set([
        ...hostPathsRead(readFileSync(NIXNODE, "utf8")),
        ...hostPathsRead(readFileSync(LOCKDOWN, "utf8")),
      ]);
      for (const p of OUTSIDE_CONTRACT) expect(nixRead, `nixnode.nix no longer reads ${p}`).toContain(p);
      const nixInContract = [...leafPaths(nixRead)].filter((p) => !OUTSIDE_CONTRACT.includes(p)).sort();
      expect([...leafPaths(jsRead)].sort()).toEqual(nixInContract);
    });
  },
);
