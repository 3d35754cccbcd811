// What a set of NixOS modules (nixnode.nix, lockdown.nix) configure for a host.json, resolved the way
// the NixOS module system merges them: the modules are evaluated by the real Nix evaluator
// (nix-instantiate) with a stand-in lib whose mkIf/mkForce/mkDefault/mkMerge return tagged data; the
// tags are then resolved here (false mkIf dropped, highest priority wins, lists concatenate, equal
// scalars merge, different ones conflict, as lib.modules does). No nixpkgs is needed.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

// Priorities as in nixpkgs lib/modules.nix: plain definitions are 100.
const TAG_LIB = `let lib = rec {
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkDefault = mkOverride 1000;
  mkOptionDefault = mkOverride 1500;
  mkForce = mkOverride 50;
  mkVMOverride = mkOverride 10;
  # the content is only forced when the condition holds, as in NixOS
  mkIf = condition: content: { _type = "if"; inherit condition; content = if condition then content else null; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOrder = priority: content: { _type = "order"; inherit priority content; };
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;
  optional = c: v: if c then [ v ] else [ ];
  optionals = c: l: if c then l else [ ];
  optionalAttrs = c: a: if c then a else { };
  optionalString = c: s: if c then s else "";
  concatStringsSep = builtins.concatStringsSep;
  concatMapStringsSep = sep: f: l: builtins.concatStringsSep sep (map f l);
  unique = builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ];
  subtractLists = a: builtins.filter (x: !(builtins.elem x a));
  elem = builtins.elem;
  attrNames = builtins.attrNames;
  filter = builtins.filter;
  toString = builtins.toString;
}; in lib`;

type Tagged =
  | { _type: "if"; condition: boolean; content: unknown }
  | { _type: "override"; priority: number; content: unknown }
  | { _type: "merge"; contents: unknown[] }
  | { _type: "order"; priority: number; content: unknown };

interface Def {
  value: unknown;
  priority: number;
  file: string;
}

/** Evaluates each module file (copied beside host.json, as in hosts/<host>/) and returns its raw, tagged config. */
export function evalTaggedModules(files: string[], hostJson: unknown): Array<{ file: string; config: unknown }> {
  const [one] = evalTaggedModulesBatch([{ files, hostJson }]);
  return one ?? [];
}

/** The same for many hosts in ONE nix-instantiate run (each host in its own folder beside its host.json). */
export function evalTaggedModulesBatch(
  hosts: Array<{ files: string[]; hostJson: unknown }>,
): Array<Array<{ file: string; config: unknown }>> {
  const dir = mkdtempSync(join(tmpdir(), "nixnode-contract-"));
  try {
    const exprs = hosts.map((h, i) => {
      const hostDir = join(dir, `h${i}`);
      mkdirSync(hostDir);
      writeFileSync(join(hostDir, "host.json"), JSON.stringify(h.hostJson));
      const names = h.files.map((f) => {
        copyFileSync(f, join(hostDir, basename(f)));
        return basename(f);
      });
      return `[ ${names
        .map((n) => `(import ${hostDir}/${n} { inherit lib; config = { }; pkgs = { }; options = { }; })`)
        .join(" ")} ]`;
    });
    const expr = `let lib = ${TAG_LIB}; in [ ${exprs.join("\n")} ]`;
    const out = execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "--readonly-mode", "-E", expr], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NIX_STATE_DIR: join(dir, "state") },
      maxBuffer: 64 * 1024 * 1024,
    });
    const all = JSON.parse(out) as unknown[][];
    return all.map((configs, i) =>
      configs.map((config, j) => ({ file: basename(hosts[i]?.files[j] ?? `module ${j}`), config })),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isTagged = (v: unknown): v is Tagged =>
  typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { _type?: unknown })._type === "string";
const isAttrs = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function collect(v: unknown, path: string[], priority: number, file: string, out: Map<string, Def[]>): void {
  if (isTagged(v)) {
    if (v._type === "if") {
      if (v.condition) collect(v.content, path, priority, file, out);
    } else if (v._type === "override") collect(v.content, path, Math.min(priority, v.priority), file, out);
    else if (v._type === "merge") for (const c of v.contents) collect(c, path, priority, file, out);
    else if (v._type === "order") collect(v.content, path, priority, file, out);
    else throw new Error(`${file}: unknown lib tag ${(v as { _type: string })._type} at ${path.join(".")}`);
    return;
  }
  if (isAttrs(v)) {
    for (const [k, x] of Object.entries(v)) collect(x, [...path, k], priority, file, out);
    return;
  }
  const key = JSON.stringify(path);
  out.set(key, [...(out.get(key) ?? []), { value: v, priority, file }]);
}

/** The merged configuration: option path ("services.openssh.ports") -> value. Throws on a conflict. */
export function mergeModules(modules: Array<{ file: string; config: unknown }>): Map<string, unknown> {
  const defs = new Map<string, Def[]>();
  // plain definitions start at 100; `imports` is not followed (the modules under contract have none)
  for (const m of modules) collect(m.config, [], 100, m.file, defs);
  const merged = new Map<string, unknown>();
  for (const [key, ds] of defs) {
    const path = (JSON.parse(key) as string[]).join(".");
    const best = Math.min(...ds.map((d) => d.priority));
    const top = ds.filter((d) => d.priority === best);
    if (top.every((d) => Array.isArray(d.value))) {
      merged.set(
        path,
        top.flatMap((d) => d.value as unknown[]),
      );
      continue;
    }
    const first = JSON.stringify(top[0]?.value);
    const other = top.find((d) => JSON.stringify(d.value) !== first);
    if (other)
      throw new Error(
        `The option \`${path}' has conflicting definition values: ${top.map((d) => `${d.file}: ${JSON.stringify(d.value)}`).join("; ")}`,
      );
    merged.set(path, top[0]?.value);
  }
  return merged;
}

/** The parts of sshd, the firewall and fail2ban the personality applies, as NixOS would derive them. */
export interface ContractView {
  sshd: {
    enable: boolean;
    ports: number[];
    PasswordAuthentication: boolean;
    KbdInteractiveAuthentication: boolean;
    PermitRootLogin: string;
    AllowUsers: string[] | null;
    authorizedKeys: Record<string, string[]>;
  };
  firewall: { enable: boolean; allowedTCPPorts: number[]; allowedUDPPorts: number[] };
  fail2ban: {
    enable: boolean;
    maxretry: number;
    bantime: string;
    bantimeIncrement: boolean;
    ignoreIP: string[];
    jails: Record<string, Record<string, unknown>>;
  };
}

/**
 * NixOS's own derivations, from nixpkgs' modules: defaults of the options the modules leave unset
 * (sshd.nix: ports [22], PasswordAuthentication and KbdInteractiveAuthentication true,
 * PermitRootLogin prohibit-password, openFirewall true; firewall.nix: enable true; fail2ban.nix:
 * maxretry 3, bantime "10m", ignoreip "127.0.0.1/8 ::1 <ignoreIP>" with enableIPv6's default true,
 * and the sshd jail on services.openssh.ports; fail2ban's sshd filter runs in mode "normal").
 */
export function nixosView(cfg: Map<string, unknown>): ContractView {
  const get = <T>(path: string, dflt: T): T => (cfg.has(path) ? (cfg.get(path) as T) : dflt);
  const uniq = <T>(xs: T[]) => [...new Set(xs)];
  const ports = get<number[]>("services.openssh.ports", [22]);
  const sshEnable = get("services.openssh.enable", false);
  const keys: Record<string, string[]> = {};
  for (const [path, v] of cfg) {
    const m = /^users\.users\.([^.]+)\.openssh\.authorizedKeys\.keys$/.exec(path);
    if (m?.[1] && (v as string[]).length) keys[m[1]] = v as string[];
  }
  const fwEnable = get("networking.firewall.enable", true);
  const openFirewall = sshEnable && get("services.openssh.openFirewall", true);
  const jails: Record<string, Record<string, unknown>> = {};
  const f2bEnable = get("services.fail2ban.enable", false);
  if (f2bEnable && sshEnable)
    jails.sshd = {
      enabled: get("services.fail2ban.jails.sshd.enabled", true),
      port: get("services.fail2ban.jails.sshd.settings.port", ports.join(",")),
      mode: get("services.fail2ban.jails.sshd.settings.mode", "normal"),
    };
  for (const path of cfg.keys()) {
    const m = /^services\.fail2ban\.jails\.([^.]+)\./.exec(path);
    if (m?.[1] && !jails[m[1]]) jails[m[1]] = { declared: true };
  }
  return {
    sshd: {
      enable: sshEnable,
      ports,
      PasswordAuthentication: get("services.openssh.settings.PasswordAuthentication", true),
      KbdInteractiveAuthentication: get("services.openssh.settings.KbdInteractiveAuthentication", true),
      PermitRootLogin: get("services.openssh.settings.PermitRootLogin", "prohibit-password"),
      AllowUsers: get<string[] | null>("services.openssh.settings.AllowUsers", null),
      authorizedKeys: keys,
    },
    firewall: {
      enable: fwEnable,
      allowedTCPPorts: uniq([
        ...get<number[]>("networking.firewall.allowedTCPPorts", []),
        ...(openFirewall ? ports : []),
      ]),
      allowedUDPPorts: uniq(get<number[]>("networking.firewall.allowedUDPPorts", [])),
    },
    fail2ban: {
      enable: f2bEnable,
      maxretry: get("services.fail2ban.maxretry", 3),
      bantime: get("services.fail2ban.bantime", "10m"),
      bantimeIncrement: get("services.fail2ban.bantime-increment.enable", false),
      ignoreIP: ["127.0.0.1/8", "::1", ...get<string[]>("services.fail2ban.ignoreIP", [])],
      jails,
    },
  };
}

/**
 * The host.json paths a module reads: `host.a.b` and, through `let x = host.a;` aliases, `x.b`
 * (nixnode.nix and lockdown.nix bind `host` to host.json's contents and `ssh = host.ssh`).
 */
export function hostPathsRead(nixText: string): Set<string> {
  const code = nixText.replace(/#.*$/gm, "");
  const aliases = new Map<string, string>([["host", ""]]);
  for (const m of code.matchAll(/\b([A-Za-z_][\w-]*)\s*=\s*host((?:\.[A-Za-z_][\w-]*)+)\s*;/g))
    aliases.set(m[1] ?? "", (m[2] ?? "").slice(1));
  const paths = new Set<string>();
  for (const [name, prefix] of aliases) {
    const re = new RegExp(`(?<![\\w./-])${name}((?:\\.[A-Za-z_][\\w-]*)+)`, "g");
    for (const m of code.matchAll(re)) {
      const rest = m[1] ?? "";
      paths.add(prefix ? `${prefix}${rest}` : rest.slice(1));
    }
  }
  return leafPaths(paths);
}

/** Drops every path that is a prefix of another one ("ssh" when "ssh.ports" is read). */
export function leafPaths(paths: Iterable<string>): Set<string> {
  const all = [...paths];
  return new Set(all.filter((p) => !all.some((q) => q !== p && q.startsWith(p + "."))));
}

/** A host object that records every field read from it (objects are wrapped; arrays are leaves). */
export function recordingHost<T extends object>(host: T): { host: T; read: Set<string> } {
  const read = new Set<string>();
  const wrap = (o: object, prefix: string): object =>
    new Proxy(o, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof prop !== "string") return v;
        const path = prefix ? `${prefix}.${prop}` : prop;
        read.add(path);
        return isAttrs(v) ? wrap(v, path) : v;
      },
    });
  return { host: wrap(host, "") as T, read };
}
