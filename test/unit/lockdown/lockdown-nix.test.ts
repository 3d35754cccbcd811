// The module the lockdown copies into hosts/<host>/lockdown.nix: it must parse with real Nix, read
// host.json (never hard-code ports or addresses), force only the lockdown's guarantees, and declare
// no list nixnode.nix already sets: NixOS concatenates list definitions of equal priority, so a
// re-declared list would hold every authorized key and ignored address twice.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stageHostData } from "../../../src/lockdown/host-stages";
import { NIX_INSTANTIATE, NO_NIX_REASON } from "../plan/nix-eval";
import { baseHost } from "./host-fixture";

const FILE = fileURLToPath(new URL("../../../flake-templates/base/hosts/lockdown.nix", import.meta.url));
const NIXNODE = fileURLToPath(new URL("../../../flake-templates/base/hosts/nixnode.nix", import.meta.url));
const KEY2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQKmB63Ujqj0Ff/MnoaKJEp8srzoe+efser3pMMpkS+ second@desk";

// Enough of nixpkgs' lib to keep what the module system needs for the merge: mkForce and mkOverride
// keep their priority, mkIf keeps its condition.
const LIB = `{
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkForce = content: { _type = "override"; priority = 50; inherit content; };
  mkDefault = content: { _type = "override"; priority = 1000; inherit content; };
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  optional = cond: v: if cond then [ v ] else [ ];
  optionalAttrs = cond: v: if cond then v else { };
}`;

type Def = unknown;
/** Both modules' definitions, evaluated by real Nix against one host.json. */
function evalModules(host: unknown): { nixnode: Def; lockdown: Def } {
  const dir = mkdtempSync(join(tmpdir(), "nn-lockdown-nix-"));
  try {
    copyFileSync(FILE, join(dir, "lockdown.nix"));
    copyFileSync(NIXNODE, join(dir, "nixnode.nix"));
    writeFileSync(join(dir, "host.json"), JSON.stringify(host));
    const args = `{ lib = ${LIB}; config = { }; pkgs = { }; }`;
    const expr = `{ nixnode = import ${dir}/nixnode.nix ${args}; lockdown = import ${dir}/lockdown.nix ${args}; }`;
    return JSON.parse(
      execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "--readonly-mode", "-E", expr], {
        encoding: "utf8",
        env: { ...process.env, NIX_STATE_DIR: join(dir, "state") },
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Wrapped = { _type?: string; priority?: number; content?: unknown; condition?: boolean };
/** The definition at `path` (mkIf resolved on the way down), with its priority (100 when plain). */
function defAt(module: Def, path: string[]): { priority: number; value: unknown } | undefined {
  let cur: unknown = module;
  let priority = 100;
  const unwrap = () => {
    for (;;) {
      const w = cur as Wrapped;
      if (w && typeof w === "object" && w._type === "if") {
        if (!w.condition) return false;
        cur = w.content;
      } else if (w && typeof w === "object" && w._type === "override") {
        priority = w.priority!;
        cur = w.content;
      } else return true;
    }
  };
  for (const key of path) {
    if (!unwrap()) return undefined;
    if (!cur || typeof cur !== "object" || !(key in (cur as object))) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return unwrap() ? { priority, value: cur } : undefined;
}

/** A list option as NixOS merges it: the definitions of the strongest priority, concatenated. */
function mergedList(mods: Def[], path: string[]): unknown[] {
  const defs = mods.map((m) => defAt(m, path)).filter((d) => d !== undefined);
  const best = Math.min(...defs.map((d) => d.priority));
  return defs.filter((d) => d.priority === best).flatMap((d) => d.value as unknown[]);
}

const once = (xs: unknown[]) => expect(xs).toEqual([...new Set(xs)]);

describe("lockdown.nix", () => {
  it.skipIf(!NIX_INSTANTIATE)(
    `parses with nix-instantiate --parse${NIX_INSTANTIATE ? "" : ` (skipped: ${NO_NIX_REASON})`}`,
    () => {
      const out = execFileSync("nix-instantiate", ["--parse", FILE], { encoding: "utf8" });
      expect(out).toContain("fromJSON");
    },
  );

  it("forces the lockdown's guarantees, reading every value from host.json", () => {
    const text = readFileSync(FILE, "utf8");
    for (const opt of [
      "ports = lib.mkForce ssh.ports",
      "PasswordAuthentication = lib.mkForce ssh.passwordAuthentication",
      "KbdInteractiveAuthentication = lib.mkForce false",
      "startWhenNeeded = lib.mkForce false",
      "PermitRootLogin = lib.mkForce rootLogin",
      'jails.sshd.settings.mode = "normal"',
    ]) {
      expect(text).toContain(opt);
    }
    expect(text).not.toMatch(/\b(2222|22)\b\s*\]/);
  });

  for (const stage of ["dual-port", "final"] as const) {
    it.skipIf(!NIX_INSTANTIATE)(
      `${stage}: with nixnode.nix, every authorized key, ignored address and open port is declared once${NIX_INSTANTIATE ? "" : ` (skipped: ${NO_NIX_REASON})`}`,
      () => {
        const start = baseHost();
        start.ssh.authorizedKeys.push(KEY2);
        for (const admin of [null, "admin"]) {
          start.ssh.adminUser = admin;
          const host = stageHostData(start, stage, {
            port: 2222,
            operatorAddress: "203.0.113.5",
            extraIgnoreIP: ["192.0.2.0/24"],
          });
          const { nixnode, lockdown } = evalModules(host);
          const mods = [nixnode, lockdown];
          const rootKeys = mergedList(mods, ["users", "users", "root", "openssh", "authorizedKeys", "keys"]);
          expect(rootKeys).toEqual(host.ssh.authorizedKeys);
          once(rootKeys);
          if (admin) {
            const adminKeys = mergedList(mods, ["users", "users", admin, "openssh", "authorizedKeys", "keys"]);
            expect(adminKeys).toEqual(host.ssh.authorizedKeys);
          }
          const ignoreIP = mergedList(mods, ["services", "fail2ban", "ignoreIP"]);
          expect(ignoreIP).toEqual(host.fail2ban.ignoreIP);
          once(ignoreIP);
          const tcp = mergedList(mods, ["networking", "firewall", "allowedTCPPorts"]);
          expect([...tcp].sort()).toEqual([...host.firewall.allowedTCPPorts].sort());
          once(tcp);
          expect(mergedList(mods, ["services", "openssh", "ports"])).toEqual(host.ssh.ports);
          // the guarantees win over nixnode.nix's plain definitions
          expect(defAt(lockdown, ["services", "openssh", "settings", "PasswordAuthentication"])).toEqual({
            priority: 50,
            value: false,
          });
          expect(defAt(lockdown, ["networking", "firewall", "enable"])).toEqual({ priority: 50, value: true });
        }
      },
    );
  }
});
