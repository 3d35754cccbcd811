// Golden flakes: each layout x profile that matters, rendered from a bundled example machine and
// fixed answers, compared file by file with test/golden/<case>/ (UPDATE_GOLDEN=1 rewrites them).
// Every generated .nix parses, and the static modules evaluate to what host.json says.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadExample } from "../../../src/facts/examples";
import { bootLoaderFor, renderDiskConfig } from "../../../src/generate/disk-config";
import { renderFlake } from "../../../src/generate/render-flake";
import type { PartialConfig } from "../../../src/plan/config";
import { planFromFacts } from "../../../src/plan/index";
import { NIX_INSTANTIATE, NO_NIX_REASON, evalModule, parseNixFiles } from "../plan/nix-eval";

const GOLDEN = fileURLToPath(new URL("../../golden/flakes/", import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === "1";
// Fixed, real public keys so that the golden files are stable.
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILuCJs5GYIJVfjenV0Xtq7+xpK/uAjFnkdAJjD0ZzEAC alice@laptop";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGzk9bbMV8YS7wn6OJXEBLdrr4ntcpfkyO3M5DWlpLrZ bob@desk";

interface Case {
  name: string;
  example: string;
  config: PartialConfig;
}

const CASES: Case[] = [
  {
    name: "hetzner-cloud-ext4-base",
    example: "hetzner-cloud",
    config: { hostname: "node1", ssh: { authorizedKeys: [KEY_A] } },
  },
  {
    name: "hetzner-cloud-btrfs-nix-bitcoin",
    example: "hetzner-cloud",
    config: {
      hostname: "btc1",
      profile: "nix-bitcoin",
      disk: { layout: "btrfs" },
      ssh: { port: 40022, authorizedKeys: [KEY_A, KEY_B] },
    },
  },
  {
    name: "hetzner-dedicated-mdadm-base",
    example: "hetzner-dedicated",
    config: {
      hostname: "metal1",
      timezone: "Europe/Berlin",
      disk: { layout: "mirror-mdadm" },
      ssh: { authorizedKeys: [KEY_A], adminUser: "alice" },
      fail2ban: { ignoreIP: ["203.0.113.0/24"] },
    },
  },
  {
    name: "hetzner-dedicated-zfs-peer-observer",
    example: "hetzner-dedicated",
    config: {
      hostname: "observer1",
      profile: "peer-observer",
      disk: { layout: "mirror-zfs", swap: "none" },
      ssh: { authorizedKeys: [KEY_B] },
    },
  },
  {
    name: "hetzner-dedicated-ext4-data-nix-bitcoin",
    example: "hetzner-dedicated",
    config: {
      hostname: "btc2",
      profile: "nix-bitcoin",
      disk: {
        layout: "ext4",
        devices: ["/dev/nvme0n1"],
        data: { device: "/dev/nvme1n1", mountpoint: "/data", filesystem: "ext4" },
      },
      ssh: { authorizedKeys: [KEY_A] },
    },
  },
  {
    name: "latitude-ext4-base-nofail2ban",
    example: "latitude-baremetal",
    config: {
      hostname: "lat1",
      nixos: "26.05",
      disk: { swap: "2G" },
      ssh: { port: 2200, authorizedKeys: [KEY_A] },
      fail2ban: { enable: false },
    },
  },
  {
    name: "hetzner-dedicated-ext4-data-peer-observer",
    example: "hetzner-dedicated",
    config: {
      hostname: "observer2",
      profile: "peer-observer",
      disk: {
        layout: "ext4",
        devices: ["/dev/nvme0n1"],
        data: { device: "/dev/nvme1n1", mountpoint: "/data", filesystem: "ext4" },
      },
      ssh: { authorizedKeys: [KEY_A], adminUser: "alice" },
    },
  },
  {
    name: "netcup-ext4-peer-observer-pruned",
    example: "netcup-vps",
    config: { hostname: "observer3", profile: "peer-observer", ssh: { port: 2022, authorizedKeys: [KEY_B] } },
  },
  {
    name: "netcup-btrfs-nix-bitcoin-admin",
    example: "netcup-vps",
    config: {
      hostname: "btc3",
      profile: "nix-bitcoin",
      timezone: "Europe/Berlin",
      disk: { layout: "btrfs" },
      ssh: { authorizedKeys: [KEY_A], adminUser: "carol" },
    },
  },
];

/** H2b's renderers own these files and their golden copies (test/golden/disko); here: the wiring only. */
const DISK_FILES = /\/(disk-config|boot)\.nix$/;

function render(c: Case) {
  const plan = planFromFacts({ facts: loadExample(c.example), config: structuredClone(c.config), interactive: false });
  return { plan, files: renderFlake(plan) };
}

function listFiles(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

describe("golden flakes", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const { plan, files: all } = render(c);
    const h = plan.config.hostname;
    expect(all[`hosts/${h}/disk-config.nix`]).toBe(renderDiskConfig(plan.disk));
    expect(all[`hosts/${h}/boot.nix`]).toBe(bootLoaderFor(plan.disk, plan.host.system));
    const files = Object.fromEntries(Object.entries(all).filter(([rel]) => !DISK_FILES.test(rel)));
    const dir = join(GOLDEN, c.name);
    if (UPDATE) {
      rmSync(dir, { recursive: true, force: true });
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), text);
      }
    }
    expect(listFiles(dir), `files in test/golden/flakes/${c.name} (UPDATE_GOLDEN=1 regenerates)`).toEqual(
      Object.keys(files).sort(),
    );
    for (const [rel, text] of Object.entries(files)) expect(text, rel).toBe(readFileSync(join(dir, rel), "utf8"));
  });

  it.skipIf(!NIX_INSTANTIATE)(
    `every generated .nix parses${NIX_INSTANTIATE ? "" : ` (skipped: ${NO_NIX_REASON})`}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), "nixnode-golden-parse-"));
      for (const c of CASES) {
        for (const [rel, text] of Object.entries(render(c).files)) {
          if (!rel.endsWith(".nix")) continue;
          mkdirSync(dirname(join(dir, c.name, rel)), { recursive: true });
          writeFileSync(join(dir, c.name, rel), text);
        }
      }
      const nix = CASES.flatMap((c) => listFiles(join(dir, c.name)).map((f) => join(dir, c.name, f)));
      expect(nix.length).toBeGreaterThanOrEqual(CASES.length * 7);
      expect(parseNixFiles(nix)).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    },
  );
});

describe("what the generated files say", () => {
  it("host.json carries the answers as data: ports, keys, fail2ban addresses, lockdown target", () => {
    const { plan, files } = render(CASES[2]!);
    const host = JSON.parse(files["hosts/metal1/host.json"]!);
    expect(host.ssh).toEqual({
      ports: [22],
      passwordAuthentication: true,
      permitRootLogin: "prohibit-password",
      authorizedKeys: [KEY_A],
      adminUser: "alice",
      hostKeyFingerprint: null,
    });
    expect(host.firewall).toEqual({ enable: true, allowedTCPPorts: [22], allowedUDPPorts: [] });
    expect(host.fail2ban.ignoreIP).toEqual(["203.0.113.0/24"]);
    expect(host.lockdown).toEqual({ stage: "none", port: 2222 });
    expect(host.timezone).toBe("Europe/Berlin");
    expect(JSON.parse(files["nixnode.json"]!)).toEqual(plan.config);
    expect(files["keys/operator-1.pub"]).toBe(`${KEY_A}\n`);
  });

  it("nixnode.json reproduces the same flake when fed back as --config", () => {
    for (const c of CASES) {
      const { plan, files } = render(c);
      const again = renderFlake(
        planFromFacts({
          facts: loadExample(c.example),
          config: JSON.parse(files["nixnode.json"]!),
          interactive: false,
        }),
      );
      expect(again, c.name).toEqual(files);
      expect(plan.config.disk.devices.every((d) => d.startsWith("/dev/disk/by-"))).toBe(true);
    }
  });

  it("the profile's flake, inputs and data-disk settings", () => {
    const btc = render(CASES[4]!).files;
    // nix-bitcoin's last commit (fort-nix/nix-bitcoin was archived 2026-08-13; v0.0.139 is 37931e5, this follows it)
    expect(btc["flake.nix"]).toContain(
      'nix-bitcoin.url = "github:fort-nix/nix-bitcoin/c4f172441d4ccd37526bba99dc894d2b72cd83a1";',
    );
    expect(btc["flake.nix"]).toMatch(/archived on\s+# 2026-08-13/);
    expect(btc["profiles/nix-bitcoin.nix"]).toContain('nix-bitcoin.configVersion = "0.0.85";');
    expect(btc["hosts/btc2/default.nix"]).toContain('services.bitcoind.dataDir = "/data/bitcoind";');
    expect(JSON.parse(btc["hosts/btc2/host.json"]!).firewall.allowedTCPPorts).toEqual([8333, 22]);
    for (const c of CASES) {
      const { plan, files } = render(c);
      // the planned release everywhere: the nixpkgs branch (nix-bitcoin: its pin) and stateVersion
      if (plan.config.profile !== "nix-bitcoin")
        expect(files["flake.nix"], c.name).toContain(
          `nixpkgs.url = "github:NixOS/nixpkgs/nixos-${plan.config.nixos}";`,
        );
      expect(JSON.parse(files[`hosts/${plan.config.hostname}/host.json`]!).stateVersion, c.name).toBe(
        plan.config.nixos,
      );
      // agenix: pinned, its nixpkgs is the node's, its macOS-only inputs are not fetched
      expect(files["flake.nix"], c.name).toMatch(
        /agenix = \{\n\s+url = "github:ryantm\/agenix\/b027ee29d959fda4b60b57566d64c98a202e0feb";\n\s+inputs\.nixpkgs\.follows = "nixpkgs";\n\s+inputs\.darwin\.follows = "";\n\s+inputs\.home-manager\.follows = "";/,
      );
    }
    expect(render(CASES[0]!).files["profiles/nix-bitcoin.nix"]).toBeUndefined();
    expect(render(CASES[5]!).files["flake.nix"]).toContain("nixos-26.05");
  });

  it("the day-2 rebuild command in flake.nix and README: the admin user with --sudo, or root; the lockdown port", () => {
    const admin = render(CASES[2]!).files; // adminUser alice, port 2222
    const cmd = 'NIX_SSHOPTS="-p 2222" nixos-rebuild switch --flake .#metal1 --target-host alice@HOST --sudo';
    expect(admin["flake.nix"]).toContain(`#   ${cmd}\n`);
    expect(admin["README.md"]).toContain(`\`${cmd}\``);
    expect(`${admin["flake.nix"]}${admin["README.md"]}`).not.toContain("--target-host root@");
    const root = render(CASES[1]!).files; // no admin user, port 40022
    const rootCmd = 'NIX_SSHOPTS="-p 40022" nixos-rebuild switch --flake .#btc1 --target-host root@HOST';
    expect(root["flake.nix"]).toContain(`#   ${rootCmd}\n`);
    expect(root["README.md"]).toContain(`\`${rootCmd}\``);
    expect(root["README.md"]).not.toContain("--sudo");
    // every profile's flake says it, with its own admin
    expect(render(CASES[8]!).files["flake.nix"]).toContain("--target-host carol@HOST --sudo");
    expect(render(CASES[3]!).files["flake.nix"]).toContain("--target-host admin@HOST --sudo");
  });

  it("Bitcoin profiles: the chain on the data disk requires its mount; without a big enough disk it prunes", () => {
    const data = render(CASES[4]!).files["hosts/btc2/default.nix"]!;
    expect(data).toContain("services.bitcoind.prune = 0;");
    expect(data).toContain('systemd.services.bitcoind.unitConfig.RequiresMountsFor = [ "/data/bitcoind" ];');
    const small = render(CASES[8]!);
    expect(small.files["hosts/btc3/default.nix"]).toContain("services.bitcoind.prune = 4000;");
    expect(small.files["hosts/btc3/default.nix"]).not.toContain("RequiresMountsFor");
    expect(small.plan.notes.join("\n")).toMatch(/bitcoin: pruned to 4000 MiB of blocks: no data disk/);
    const po = render(CASES[6]!).files;
    expect(po["infra.nix"]).toContain('dataDir = "/data/bitcoind";');
    expect(po["infra.nix"]).toContain("prune = 0;");
    // only outside infra-library's setup mode, where the unit exists
    expect(po["infra.nix"]).toMatch(
      /extraConfig =\n\s+if haveKey then\n\s+\{ systemd\.services\.bitcoind-mainnet\.unitConfig\.RequiresMountsFor = \[ "\/data\/bitcoind" \]; \}/,
    );
    expect(po["hosts/observer2/default.nix"]).not.toContain("bitcoind");
    expect(render(CASES[7]!).files["infra.nix"]).toContain("prune = 4000;");
  });

  it.skipIf(!NIX_INSTANTIATE)(
    "nixnode.nix applies host.json: sshd, keys, admin user, firewall, fail2ban (real nix-instantiate)",
    () => {
      const { files } = render(CASES[2]!);
      const host = JSON.parse(files["hosts/metal1/host.json"]!);
      const mod = fileURLToPath(new URL("../../../flake-templates/base/hosts/nixnode.nix", import.meta.url));
      const sshd = evalModule(mod, host, "services.openssh") as Record<string, unknown>;
      expect(sshd).toMatchObject({
        enable: true,
        ports: [22],
        openFirewall: true,
        startWhenNeeded: false,
        hostKeys: [{ path: "/etc/ssh/ssh_host_ed25519_key", type: "ed25519" }],
        settings: {
          PasswordAuthentication: true,
          KbdInteractiveAuthentication: true,
          PermitRootLogin: "prohibit-password",
        },
      });
      const users = evalModule(mod, host, "users.users") as Record<
        string,
        { openssh: { authorizedKeys: { keys: string[] } }; extraGroups?: string[] }
      >;
      expect(users.root!.openssh.authorizedKeys.keys).toEqual([KEY_A]);
      expect(users.alice).toMatchObject({
        isNormalUser: true,
        extraGroups: ["wheel"],
        openssh: { authorizedKeys: { keys: [KEY_A] } },
      });
      expect(evalModule(mod, host, "services.fail2ban")).toEqual({
        enable: true,
        maxretry: 5,
        bantime: "10m",
        "bantime-increment": { enable: true },
        ignoreIP: ["203.0.113.0/24"],
      });
      expect(evalModule(mod, host, "networking.firewall")).toEqual({
        enable: true,
        allowedTCPPorts: [22],
        allowedUDPPorts: [],
      });
      // The lockdown's stage-1 data: the same module opens [22, P] and turns passwords off.
      const staged = {
        ...host,
        ssh: { ...host.ssh, ports: [22, 2222], passwordAuthentication: false, permitRootLogin: "no" },
      };
      expect(evalModule(mod, staged, "services.openssh.settings")).toEqual({
        PasswordAuthentication: false,
        KbdInteractiveAuthentication: false,
        PermitRootLogin: "no",
      });
      expect(evalModule(mod, staged, "services.openssh.ports")).toEqual([22, 2222]);
      const noAdmin = { ...host, ssh: { ...host.ssh, adminUser: null } };
      expect(Object.keys(evalModule(mod, noAdmin, "users.users") as object)).toEqual(["root"]);
      // day-2 rebuilds copy the closure as the admin user: the daemon must trust it; without one, root only
      expect(evalModule(mod, host, "nix.settings")).toEqual({ "trusted-users": ["root", "alice"] });
      // (the stand-in lib's mkIf false is { }: no definition, so NixOS's default, root only)
      expect(evalModule(mod, noAdmin, "nix.settings")).toEqual({ "trusted-users": {} });
    },
  );
});
