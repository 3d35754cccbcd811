// The template files are real Nix on their own, and the placeholder scheme cannot drift from them:
// a placeholder without a value, or a value without a placeholder, is a bug caught at render time.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InternalError } from "../../../src/errors";
import { fillTemplate, nixStr } from "../../../src/generate/fill-template";
import {
  NIXOS_OPTIONS_DIR,
  evalAgainstNixosOptions,
  nixError,
  nixosOptionsUnavailable,
} from "../../helpers/nix-nixos-options";
import { NIX_INSTANTIATE, NO_NIX_REASON, parseNixFiles } from "../plan/nix-eval";

const TEMPLATES = fileURLToPath(new URL("../../../flake-templates/", import.meta.url));

function nixFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? nixFiles(join(dir, e.name)) : e.name.endsWith(".nix") ? [join(dir, e.name)] : [],
  );
}

describe("flake-templates", () => {
  it.skipIf(!NIX_INSTANTIATE)(
    `every template parses as it is, placeholders included${NIX_INSTANTIATE ? "" : ` (skipped: ${NO_NIX_REASON})`}`,
    () => {
      const files = nixFiles(TEMPLATES);
      expect(files.length).toBeGreaterThanOrEqual(8);
      expect(parseNixFiles(files)).toEqual([]);
    },
  );

  it.skipIf(!NIX_INSTANTIATE)("the parse check names a file that does not parse, among good ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "nixnode-parse-"));
    writeFileSync(join(dir, "bad.nix"), "{ x = ; }\n");
    const files = [...nixFiles(TEMPLATES), join(dir, "bad.nix")];
    expect(parseNixFiles(files).map((f) => f.file)).toEqual([join(dir, "bad.nix")]);
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!NIX_INSTANTIATE)(
    "the profiles set only options their modules declare (nats, sshd, nix-bitcoin: lists from the real sources)",
    () => {
      for (const [profile, host] of [
        ["peer-observer", HOST],
        ["nix-bitcoin", HOST],
      ] as const) {
        const paths = definedPaths(join(TEMPLATES, `${profile}/profile.nix`), host);
        expect(paths.length, profile).toBeGreaterThan(2);
        expect(
          paths.filter((p) => !isDeclared(p)),
          `${profile}: undeclared options`,
        ).toEqual([]);
      }
    },
  );

  it.skipIf(!NIX_INSTANTIATE)("the option check refuses what nixpkgs removed: services.nats.host", () => {
    const dir = mkdtempSync(join(tmpdir(), "nixnode-opts-"));
    writeFileSync(
      join(dir, "old.nix"),
      '{ ... }: { services.nats = { enable = true; host = "127.0.0.1"; port = 4222; }; }\n',
    );
    expect(definedPaths(join(dir, "old.nix"), HOST).filter((p) => !isDeclared(p))).toEqual(["services.nats.host"]);
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!NIX_INSTANTIATE)(
    "peer-observer: host.json's SSH settings and time zone win over infra-library (priority 90), lockdown's mkForce (50) over both",
    () => {
      const mod = join(TEMPLATES, "peer-observer/profile.nix");
      const got = evalWith(mod, HOST, "{ inherit (m.services.openssh) settings; inherit (m.time) timeZone; }");
      expect(got).toEqual({
        settings: {
          PermitRootLogin: { _type: "override", priority: 90, content: "prohibit-password" },
          PasswordAuthentication: { _type: "override", priority: 90, content: true },
        },
        timeZone: { _type: "override", priority: 90, content: "Europe/Berlin" },
      });
    },
  );
});

/** A host.json as the plan writes it (the parts the profiles read). */
const HOST = {
  hostname: "n1",
  system: "x86_64-linux",
  timezone: "Europe/Berlin",
  ssh: { permitRootLogin: "prohibit-password", passwordAuthentication: true, adminUser: "alice", authorizedKeys: [] },
};

// Option declarations of the modules the profiles touch, taken from the sources:
// - nixpkgs nixos/modules/services/networking/nats.nix (NixOS/nixpkgs 1d51c8b324f67a3a98d416e77300973777dcd877,
//   the newest stored revision: `host` was removed, `settings` is free-form JSON, `listen` goes there)
// - nixpkgs nixos/modules/services/networking/ssh/sshd.nix (00976b194fe32d3e425ff3b457eeb6e4ec7ba12c):
//   `settings` is free-form with typed PermitRootLogin/PasswordAuthentication/KbdInteractiveAuthentication
// - nixpkgs nixos/modules/config/locale.nix: time.timeZone
// - nix-bitcoin c4f172441d4ccd37526bba99dc894d2b72cd83a1: modules/bitcoind.nix, clightning.nix,
//   operator.nix, versioning.nix (configVersion), secrets/secrets.nix (generateSecrets)
// A path is declared when one of these is a prefix of it and the rest is allowed (free-form below `settings`).
const DECLARED: Record<string, string[] | "freeform"> = {
  "services.nats": ["enable", "user", "group", "serverName", "jetstream", "port", "dataDir", "settings"],
  "services.nats.settings": "freeform",
  "services.openssh.settings": "freeform",
  time: ["timeZone", "hardwareClockInLocalTime"],
  "services.bitcoind": [
    "enable",
    "address",
    "port",
    "onionPort",
    "listen",
    "listenWhitelisted",
    "whitelistedPort",
    "getPublicAddressCmd",
    "package",
    "extraConfig",
    "dataDir",
    "regtest",
    "network",
    "proxy",
    "dataDirReadableByGroup",
    "sysperms",
    "disablewallet",
    "dbCache",
    "prune",
    "txindex",
    "zmqpubrawblock",
    "zmqpubrawtx",
    "assumevalid",
    "addnodes",
    "discover",
    "addresstype",
    "user",
    "group",
    "rpc",
    "tor",
  ],
  "services.clightning": [
    "enable",
    "address",
    "port",
    "proxy",
    "always-use-proxy",
    "dataDir",
    "extraConfig",
    "user",
    "group",
    "tor",
  ],
  "nix-bitcoin": ["configVersion", "generateSecrets", "operator", "secretsDir", "onionServices", "netns-isolation"],
  "nix-bitcoin.operator": ["enable", "name", "groups", "allowRunAsUsers"],
  "users.users.*.openssh.authorizedKeys": ["keys", "keyFiles"],
};
const SSHD_TYPED: Record<string, (v: unknown) => boolean> = {
  PermitRootLogin: (v) =>
    ["yes", "without-password", "prohibit-password", "forced-commands-only", "no"].includes(v as string),
  PasswordAuthentication: (v) => typeof v === "boolean",
};

function isDeclared(path: string): boolean {
  if (path === "imports") return true; // the module system's own
  const parts = path.split(".");
  for (let i = parts.length - 1; i >= 1; i--) {
    const prefix = parts.slice(0, i).join(".");
    const key = Object.keys(DECLARED).find(
      (k) =>
        k === prefix ||
        (k.includes("*") && new RegExp(`^${k.replace(/\./g, "\\.").replace("*", "[^.]+")}$`).test(prefix)),
    );
    if (!key) continue;
    const d = DECLARED[key]!;
    return d === "freeform" || d.includes(parts[i]!);
  }
  return false;
}

/** Evaluates a profile module with a stand-in lib/config and returns EXPR over its result `m`. */
function evalWith(moduleFile: string, host: unknown, expr: string): unknown {
  const dir = mkdtempSync(join(tmpdir(), "nixnode-prof-"));
  try {
    writeFileSync(join(dir, "host.json"), JSON.stringify(host));
    const lib = `{ mkOverride = p: v: { _type = "override"; priority = p; content = v; }; mkForce = v: { _type = "override"; priority = 50; content = v; }; mkDefault = v: { _type = "override"; priority = 1000; content = v; }; mkIf = c: v: { _type = "if"; condition = c; content = v; }; }`;
    const config = `{ services.bitcoind.port = 8333; nix-bitcoin.operator.name = "operator"; users.users.root.openssh.authorizedKeys.keys = [ ]; }`;
    const args = `{ lib = ${lib}; config = ${config}; pkgs = { }; inputs.nix-bitcoin.nixosModules.default = "nix-bitcoin-module"; nixnodeHost = builtins.fromJSON (builtins.readFile ${dir}/host.json); }`;
    const full = `let m = import ${moduleFile} ${args}; in ${expr}`;
    return JSON.parse(
      execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "--readonly-mode", "-E", full], {
        encoding: "utf8",
        env: { ...process.env, NIX_STATE_DIR: join(dir, "state") },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every option path a module defines (leaves: values, or lib wrappers such as mkOverride), checked for typed sshd values. */
function definedPaths(moduleFile: string, host: unknown): string[] {
  const flat = evalWith(
    moduleFile,
    host,
    `let go = p: v: if builtins.isAttrs v && !(v ? _type) then builtins.concatLists (map (n: go (p ++ [ n ]) v.\${n}) (builtins.attrNames v)) else [ { path = builtins.concatStringsSep "." p; value = if builtins.isAttrs v && v ? content then v.content else if builtins.isFunction v then null else v; } ]; in go [ ] m`,
  ) as Array<{ path: string; value: unknown }>;
  for (const { path, value } of flat) {
    const key = path.replace(/^services\.openssh\.settings\./, "");
    if (key !== path && SSHD_TYPED[key])
      expect(SSHD_TYPED[key]!(value), `${path} = ${JSON.stringify(value)}`).toBe(true);
  }
  return flat.map((f) => f.path);
}

describe("fillTemplate", () => {
  it("fills inline values and whole-line blocks at the line's indentation", () => {
    const t = 'x = "@name@";\n  # @lines@\ny = 1;\n';
    expect(fillTemplate(t, "t", { name: "node1", lines: ["a = 1;", "b = 2;"] })).toBe(
      'x = "node1";\n  a = 1;\n  b = 2;\ny = 1;\n',
    );
    expect(fillTemplate(t, "t", { name: "n", lines: [] })).toBe('x = "n";\ny = 1;\n');
  });

  it("refuses a missing value and an unused one", () => {
    expect(() => fillTemplate("@a@ @b@", "t", { a: "1" })).toThrow(InternalError);
    expect(() => fillTemplate("@a@", "t", { a: "1", c: "2" })).toThrow(/does not have: c/);
    expect(() => fillTemplate("x @a@", "t", { a: ["block"] })).toThrow(/inline/);
  });

  it("nixStr escapes what would end or splice a Nix string", () => {
    expect(nixStr('a"b\\c${d}')).toBe('"a\\"b\\\\c\\${d}"');
  });
});

// peer-observer is built on infra-library, whose base.nix sets some of the same options as
// nixnode.nix at the same (normal) priority. Evaluated with the real module system and NixOS's own
// option declarations (NIXNODE_NIXOS_OPTIONS, docs/nixos-options.md): with the profile there is no
// conflict in any lockdown stage; without it, NixOS refuses the configuration.
const OPTIONS_UNAVAILABLE = nixosOptionsUnavailable();
describe.skipIf(OPTIONS_UNAVAILABLE !== null)(
  `peer-observer on infra-library: no conflicting definitions${OPTIONS_UNAVAILABLE ? ` (skipped: ${OPTIONS_UNAVAILABLE})` : ""}`,
  () => {
    // infra-library's modules/base/base.nix (peer-observer/infra-library fe3df2d5166a, the newest stored
    // version; 02229c96d842 is what the flake pins): its definitions of options nixnode.nix also sets.
    const INFRA_BASE = `{ nixnodeHost, ... }: {
  networking.hostName = nixnodeHost.hostname;
  networking.enableIPv6 = true;
  users.users.\${nixnodeHost.ssh.adminUser} = {
    group = "users";
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    openssh.authorizedKeys.keys = nixnodeHost.ssh.authorizedKeys;
  };
  security.sudo.extraRules = [ { users = [ nixnodeHost.ssh.adminUser ]; commands = [ { command = "ALL"; options = [ "NOPASSWD" ]; } ]; } ];
  services.openssh = { enable = true; settings.PermitRootLogin = "no"; settings.PasswordAuthentication = false; };
  nix.settings = {
    auto-optimise-store = true;
    substituters = [ "https://b10c-nixpkgs.cachix.org" ];
    experimental-features = [ "nix-command" "flakes" ];
  };
  time.timeZone = "UTC";
}
`;
    const GOLDEN_HOST = fileURLToPath(
      new URL("../../golden/flakes/hetzner-dedicated-zfs-peer-observer/hosts/observer1/", import.meta.url),
    );
    function stage(edit: (host: Record<string, any>) => void, withLockdown: boolean): string {
      const dir = mkdtempSync(join(tmpdir(), "nixnode-infra-prio-"));
      const host = JSON.parse(readFileSync(join(GOLDEN_HOST, "host.json"), "utf8"));
      host.timezone = "Europe/Berlin";
      edit(host);
      writeFileSync(join(dir, "host.json"), JSON.stringify(host));
      copyFileSync(join(GOLDEN_HOST, "nixnode.nix"), join(dir, "nixnode.nix"));
      if (withLockdown) copyFileSync(join(TEMPLATES, "base/hosts/lockdown.nix"), join(dir, "lockdown.nix"));
      writeFileSync(join(dir, "infra-base.nix"), INFRA_BASE);
      return dir;
    }
    const files = (dir: string, profile: boolean) => [
      join(dir, "nixnode.nix"),
      join(dir, "infra-base.nix"),
      ...(existsSync(join(dir, "lockdown.nix")) ? [join(dir, "lockdown.nix")] : []),
      ...(profile ? [join(TEMPLATES, "peer-observer/profile.nix")] : []),
    ];

    it.each([
      ["before the lockdown (root with keys, passwords on)", () => {}, false],
      [
        "lockdown stage 1 (dual port, root off)",
        (h: Record<string, any>) => {
          h.ssh = { ...h.ssh, ports: [22, 2222], passwordAuthentication: false, permitRootLogin: "no" };
        },
        true,
      ],
    ] as const)("%s", (_n, edit, lockdown) => {
      const dir = stage(edit, lockdown);
      try {
        const r = evalAgainstNixosOptions(files(dir, true), { hostJson: join(dir, "host.json") });
        expect(r.checked).toEqual(
          // forced to their merged, type-checked values: a conflict would have thrown
          expect.arrayContaining(["services.openssh.settings", "time.timeZone", "users.users", "nix.settings"]),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("without the profile, NixOS refuses infra-library's and nixnode.nix's SSH settings as conflicting", () => {
      const dir = stage(() => {}, false);
      try {
        let err: unknown;
        try {
          evalAgainstNixosOptions(files(dir, false), { hostJson: join(dir, "host.json") });
        } catch (e) {
          err = e;
        }
        expect(nixError(err)).toMatch(
          /`services\.openssh\.settings\.(PermitRootLogin|PasswordAuthentication)' has conflicting definition values/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

// infra.nix is data for infra-library's own mkNodeConfig: evaluated here with infra-library's real
// lib.nix and its option declarations (modules/infra.nix, peer-observer.nix: node, base, web) under
// the real module system. Needs a checkout of github:peer-observer/infra-library in
// NIXNODE_INFRA_LIBRARY and nixpkgs' lib/ (NIXNODE_NIXOS_OPTIONS); skipped with the reason otherwise.
const INFRA_LIBRARY = process.env.NIXNODE_INFRA_LIBRARY ?? "";
const INFRA_UNAVAILABLE = !INFRA_LIBRARY
  ? "NIXNODE_INFRA_LIBRARY is not set (a checkout of github:peer-observer/infra-library: see docs/profiles.md)"
  : !existsSync(join(INFRA_LIBRARY, "lib.nix"))
    ? `NIXNODE_INFRA_LIBRARY=${INFRA_LIBRARY} has no lib.nix`
    : OPTIONS_UNAVAILABLE;
describe.skipIf(INFRA_UNAVAILABLE !== null)(
  `infra.nix through infra-library's mkNodeConfig and option declarations${INFRA_UNAVAILABLE ? ` (skipped: ${INFRA_UNAVAILABLE})` : ""}`,
  () => {
    const GOLDEN = fileURLToPath(new URL("../../golden/flakes/", import.meta.url));
    const flakes = readdirSync(GOLDEN).filter((f) => existsSync(join(GOLDEN, f, "infra.nix")));

    function evalNode(flake: string, withKey: boolean): Record<string, any> {
      const dir = mkdtempSync(join(tmpdir(), "nixnode-infra-"));
      try {
        const name = readdirSync(join(GOLDEN, flake, "hosts"))[0]!;
        copyFileSync(join(GOLDEN, flake, "infra.nix"), join(dir, "infra.nix"));
        copyFileSync(join(GOLDEN, flake, "hosts", name, "host.json"), join(dir, "host.json"));
        if (withKey) {
          for (const d of ["keys", "secrets"]) mkdirSync(join(dir, d));
          writeFileSync(
            join(dir, `keys/wireguard-private-key-${name}.pub`),
            "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n",
          );
          writeFileSync(join(dir, `secrets/wireguard-private-key-${name}.age`), "age-encryption.org/v1\n");
        }
        const expr = `
let
  lib = import ${join(NIXOS_OPTIONS_DIR, "lib")};
  host = builtins.fromJSON (builtins.readFile ${dir}/host.json);
  infraLib = import ${join(INFRA_LIBRARY, "lib.nix")} {
    nixpkgs = { }; agenix.nixosModules.default = { }; system = host.system;
    b10c-nix = { packages.\${host.system} = { }; nixosModules.default = { }; };
  };
  infra = import ${dir}/infra.nix { inherit host; };
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
  base = { inherit (c.peer-observer.base) name setup arch; inherit (c.peer-observer.base.wireguard) ip pubkey; };
  node = { inherit (c.peer-observer.node) enable; inherit (c.peer-observer.node.bitcoind) prune dataDir chain; };
  admin = c.infra.global.admin;
  failed = map (a: a.message) (builtins.filter (a: !a.assertion) c.assertions);
  modules = builtins.length (infraLib.mkModules [ ]);
  # the node module's own definitions beside infra and peer-observer (infra.nix extraConfig)
  requiresMount = node.systemd.services.bitcoind-mainnet.unitConfig.RequiresMountsFor or null;
}`;
        return JSON.parse(
          execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "--readonly-mode", "-E", expr], {
            encoding: "utf8",
            env: { ...process.env, NIX_STATE_DIR: join(dir, "state") },
            stdio: ["ignore", "pipe", "pipe"],
          }),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it("the golden peer-observer flakes are there", () => expect(flakes.length).toBeGreaterThanOrEqual(3));

    it.each(flakes)("%s: a node named after the host, its admin and keys, the planned chain storage", (flake) => {
      const name = readdirSync(join(GOLDEN, flake, "hosts"))[0]!;
      const host = JSON.parse(readFileSync(join(GOLDEN, flake, "hosts", name, "host.json"), "utf8"));
      const plan = readFileSync(join(GOLDEN, flake, "infra.nix"), "utf8");
      const setup = evalNode(flake, false);
      expect(setup.failed).toEqual([]);
      expect(setup.base).toMatchObject({ name, setup: true, arch: host.system, ip: "10.21.0.1" });
      expect(setup.admin).toEqual({ username: host.ssh.adminUser, sshPubKeys: host.ssh.authorizedKeys });
      expect(setup.node.enable).toBe(true);
      expect(setup.node.prune).toBe(Number(/prune = (\d+);/.exec(plan)![1]));
      expect(setup.node.dataDir).toBe(/dataDir = "([^"]+)";/.exec(plan)?.[1] ?? null);
      expect(setup.modules).toBeGreaterThan(3);
      // with the generated key (and its public half in keys/), the whole node from the first install
      const full = evalNode(flake, true);
      expect(full.base).toMatchObject({ setup: false, pubkey: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=" });
      // bitcoind-mainnet requires the data disk's mount, once the unit exists (not in setup mode)
      expect(setup.requiresMount).toBeNull();
      expect(full.requiresMount).toEqual(setup.node.dataDir ? [setup.node.dataDir] : null);
      expect(full.failed).toEqual([]);
    });
  },
);
