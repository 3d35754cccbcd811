// Evaluates a host's own NixOS modules against the REAL option declarations of the NixOS modules
// they touch (lib.evalModules from the nixpkgs lib and nixos/modules in NIXNODE_NIXOS_OPTIONS), so
// that a misspelt option, a wrong type or a conflict fails. No nixpkgs package set exists here:
// pkgs is a stub (pkgs.formats types only), and each declaring module is reduced to its `options`
// (and its imports' options): its implementation would need packages. An option whose declaring
// module is not in the folder is declared as `anything` and reported as not checked.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The NixOS modules whose options the generated modules set, and the option paths each declares. */
export const DECLARING_MODULES: ReadonlyArray<{ file: string; owns: string[] }> = [
  { file: "services/networking/ssh/sshd.nix", owns: ["services.openssh"] },
  { file: "services/security/fail2ban.nix", owns: ["services.fail2ban"] },
  { file: "services/networking/firewall.nix", owns: ["networking.firewall"] },
  { file: "config/users-groups.nix", owns: ["users.users", "users.groups", "users.mutableUsers"] },
  {
    file: "tasks/network-interfaces.nix",
    owns: [
      "networking.hostName",
      "networking.useDHCP",
      "networking.useNetworkd",
      "networking.nameservers",
      "networking.enableIPv6",
    ],
  },
  { file: "system/boot/networkd.nix", owns: ["systemd.network"] },
  { file: "config/locale.nix", owns: ["time.timeZone"] },
  { file: "misc/version.nix", owns: ["system.stateVersion"] },
  { file: "misc/nixpkgs.nix", owns: ["nixpkgs.hostPlatform"] },
  { file: "security/sudo.nix", owns: ["security.sudo"] },
  { file: "config/nix.nix", owns: ["nix.settings"] },
  { file: "config/system-path.nix", owns: ["environment.systemPackages"] },
  { file: "misc/assertions.nix", owns: ["warnings", "assertions"] },
  { file: "services/networking/nats.nix", owns: ["services.nats"] },
  { file: "services/networking/bitcoind.nix", owns: ["services.bitcoind"] },
  { file: "services/networking/wireguard.nix", owns: ["networking.wireguard"] },
];

export const NIXOS_OPTIONS_DIR = process.env.NIXNODE_NIXOS_OPTIONS ?? "";

/** Why the evaluation cannot run here, or null when it can. */
export function nixosOptionsUnavailable(): string | null {
  if (!NIXOS_OPTIONS_DIR)
    return "NIXNODE_NIXOS_OPTIONS is not set (a folder with nixpkgs' lib/ and nixos/: see docs/nixos-options.md)";
  for (const sub of ["lib/default.nix", "nixos/modules"])
    if (!existsSync(join(NIXOS_OPTIONS_DIR, sub))) return `NIXNODE_NIXOS_OPTIONS=${NIXOS_OPTIONS_DIR} has no ${sub}`;
  try {
    execFileSync("nix-instantiate", ["--version"], { stdio: "ignore" });
  } catch {
    return "nix-instantiate is not installed (Debian/Ubuntu: apt-get install nix-bin)";
  }
  return null;
}

export function declaringModules(dir = NIXOS_OPTIONS_DIR): { present: string[]; absent: string[] } {
  const present: string[] = [];
  const absent: string[] = [];
  for (const m of DECLARING_MODULES) (existsSync(join(dir, "nixos/modules", m.file)) ? present : absent).push(m.file);
  return { present, absent };
}

const nixStr = (s: string) => JSON.stringify(s).replace(/\$\{/g, "\\${");

// pkgs.formats as nixpkgs' pkgs-lib/formats.nix types them (generate is never called here).
const PKGS_STUB = `let
  t = lib.types;
  atom = t.nullOr (t.oneOf [ t.bool t.int t.float t.str t.path ]);
  json = t.nullOr (t.oneOf [ t.bool t.int t.float t.str t.path (t.attrsOf json) (t.listOf json) ]) // { description = "JSON value"; };
  gen = name: value: throw "pkgs stub: formats.*.generate is not available offline";
  fake = name: { type = "derivation"; inherit name; outPath = "/nix/store/00000000000000000000000000000000-" + name; };
in {
  # package defaults some options force (a user's shell): store paths without a build
  shadow = fake "shadow";
  formats = {
    keyValue = { ... }: { type = t.attrsOf atom; generate = gen; };
    ini = { ... }: { type = t.attrsOf (t.attrsOf (t.either atom (t.listOf atom))); generate = gen; };
    json = { ... }: { type = json; generate = gen; };
  };
}`;

// users-groups.nix's user fields that the generated modules set, with its types: used only when
// that module is not in the folder (sshd.nix declares users.users as well, so it cannot be `anything`).
const USERS_STUB = `{ lib, ... }: {
  options.users.users = lib.mkOption {
    type = lib.types.attrsOf (lib.types.submodule {
      options = {
        isNormalUser = lib.mkOption { type = lib.types.bool; default = false; };
        isSystemUser = lib.mkOption { type = lib.types.bool; default = false; };
        extraGroups = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };
        group = lib.mkOption { type = lib.types.str; default = ""; };
        description = lib.mkOption { type = lib.types.str; default = ""; };
        home = lib.mkOption { type = lib.types.path; default = "/var/empty"; };
        hashedPassword = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null; };
      };
    });
  };
  options.users.groups = lib.mkOption { type = lib.types.anything; default = { }; };
}`;

// Options the declaring modules read (in defaults or submodule config) from modules not listed above:
// declared with NixOS's default when their own module is absent.
const REFERENCED: ReadonlyArray<{ path: string; file: string; nix: string }> = [
  {
    path: "users.defaultUserShell",
    file: "config/shells-environment.nix",
    nix: "lib.mkOption { type = lib.types.anything; default = pkgs.shadow; }",
  },
];

export interface OptionsEval {
  /** Option paths the host's modules define, forced to their merged, type-checked values. */
  checked: string[];
  /** Option prefixes whose declaring module is absent: declared as `anything`, so NOT checked. */
  unchecked: string[];
}

/**
 * lib.evalModules over the present declaring modules (options only), stubs for the absent ones,
 * and `files` (the host's modules); every option those files define is forced. Throws Nix's error.
 */
export function evalAgainstNixosOptions(files: string[], opts: { hostJson: string; dir?: string }): OptionsEval {
  const dir = opts.dir ?? NIXOS_OPTIONS_DIR;
  const { present, absent } = declaringModules(dir);
  const unchecked = DECLARING_MODULES.filter((m) => absent.includes(m.file)).flatMap((m) => m.owns);
  const usersAbsent = absent.includes("config/users-groups.nix");
  const sinks = unchecked.filter((p) => !(usersAbsent && p.startsWith("users.")));
  const expr = `
let
  root = ${nixStr(dir)};
  lib = import (root + "/lib");
  # a declaring module reduced to its options; its imports (renames, removals) likewise
  strip = m:
    let
      file = if builtins.isPath m || builtins.isString m then toString m else null;
      fn = if file != null then import m else m;
      wrapped = lib.setFunctionArgs
        (args: let v = if lib.isFunction fn then fn args else fn; in {
          options = v.options or { };
          imports = map strip (v.imports or [ ]);
        })
        (if lib.isFunction fn then lib.functionArgs fn else { });
    in if file != null then { _file = file; key = "nixnode-strip:" + file; imports = [ wrapped ]; } else wrapped;
  real = map (f: strip (root + "/nixos/modules/" + f)) ${JSON.stringify(present).replace(/,/g, " ")};
  referenced = [ ${REFERENCED.filter((r) => !existsSync(join(dir, "nixos/modules", r.file)))
    .map(
      (r) =>
        `({ lib, pkgs, ... }: { options = lib.setAttrByPath (lib.splitString "." ${nixStr(r.path)}) (${r.nix}); })`,
    )
    .join(" ")} ];
  sinks = map (p: { options = lib.setAttrByPath (lib.splitString "." p) (lib.mkOption { type = lib.types.anything; }); })
    ${JSON.stringify(sinks).replace(/,/g, " ")};
  modulesPath = root + "/nixos/modules";
  # what the generated flake.nix passes to its profile modules
  nixnodeHost = builtins.fromJSON (builtins.readFile (/. + ${nixStr(opts.hostJson)}));
  ours = [ ${files.map((f) => `(${nixStr(f)})`).join(" ")} ];
  eval = lib.evalModules {
    modules = real ++ referenced ++ sinks ++ ${usersAbsent ? `[ (${USERS_STUB}) ]` : "[ ]"}
      ++ map (f: /. + f) ours
      ++ [ { _module.args.pkgs = pkgs; } ];
    # utils (nixos/lib/utils.nix) is only used by implementations, which are not evaluated
    specialArgs = { inherit modulesPath nixnodeHost; utils = { }; };
  };
  pkgs = ${PKGS_STUB};
  # the option paths a module defines: its definitions, through mkIf (when true), mkMerge, mkForce...
  defined = path: v:
    let t = if builtins.isAttrs v then v._type or null else null; in
    if t == "if" then (if v.condition then defined path v.content else [ ])
    else if t == "override" || t == "order" then defined path v.content
    else if t == "merge" then lib.concatMap (defined path) v.contents
    else if t == null && builtins.isAttrs v && v != { } then
      lib.concatLists (lib.mapAttrsToList (n: c: defined (path ++ [ n ]) c) v)
    else [ path ];
  moduleDefs = f:
    let
      m = import (/. + f);
      v = if lib.isFunction m then m { inherit lib pkgs modulesPath nixnodeHost; inherit (eval) config options; } else m;
      body = if v ? config && (v ? options || v ? imports) then v.config else removeAttrs v [ "imports" "_file" "key" ];
    in defined [ ] body;
  # the declared option a definition path falls under (null: undeclared, which the check reports)
  optionAt = opts: path:
    if path == [ ] || !(builtins.isAttrs opts) || !(builtins.hasAttr (builtins.head path) opts) then null
    else let c = builtins.getAttr (builtins.head path) opts; in
      if lib.isOption c then { opt = c; } else optionAt c (builtins.tail path);
  checked = lib.unique (lib.concatMap (f: lib.concatMap (p:
      let o = optionAt eval.options p; in
      if o == null then [ ] else [ (builtins.deepSeq o.opt.value (lib.showOption o.opt.loc)) ]
    ) (moduleDefs f)) ours);
in
  # forcing config runs the module system's check for definitions of undeclared options
  builtins.seq (builtins.attrNames eval.config) checked
`;
  const state = mkdtempSync(join(tmpdir(), "nixnode-options-"));
  try {
    const out = execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "--readonly-mode", "-E", expr], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NIX_STATE_DIR: state },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { checked: JSON.parse(out) as string[], unchecked };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

/** Nix's message from a failed evaluation (the lines that name the option and the file). */
export function nixError(e: unknown): string {
  const stderr = String((e as { stderr?: string | Buffer }).stderr ?? e);
  return stderr
    .split("\n")
    .filter((l) => !/nixbld|^\s*$/.test(l))
    .join("\n");
}
