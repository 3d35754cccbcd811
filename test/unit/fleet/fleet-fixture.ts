// A fleet inventory on bundled example machines, with operator keys made by the real ssh-keygen,
// planned and written by the same code `fleet plan` runs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseInventory } from "../../../src/fleet/inventory";
import { planFleet, writeFleet, type FleetPlan } from "../../../src/fleet/plan-fleet";

export interface Operator {
  /** Private key file (for age -i). */
  key: string;
  pub: string;
}

export function scratch(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "nixnode-test-fleet-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function makeOperator(dir: string, name = "operator"): Operator {
  const key = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key]);
  return { key, pub: readFileSync(`${key}.pub`, "utf8").trim() };
}

export const HOSTS = {
  collector1: { address: "203.0.113.10", role: "collector", example: "hetzner-cloud" },
  node1: {
    address: "203.0.113.11",
    role: "node",
    example: "hetzner-dedicated",
    ssh: { port: 2201, adminUser: "admin" },
  },
  node2: { address: "2001:db8::12", role: "node", example: "netcup-vps" },
  node3: { address: "node3.example.org", role: "node", example: "proxmox-2disks" },
} as const;

export function inventory(op: Operator, names: Array<keyof typeof HOSTS>, extra: Record<string, unknown> = {}) {
  return {
    defaults: { ssh: { authorizedKeys: [op.pub], port: 2222 } },
    hosts: Object.fromEntries(names.map((n) => [n, HOSTS[n]])),
    ...extra,
  };
}

export async function planInto(dir: string, json: unknown): Promise<FleetPlan> {
  const plan = await planFleet(parseInventory(json, dir), {
    dir,
    localSystem: "x86_64-linux",
    today: new Date("2026-11-30"),
  });
  writeFleet(plan, dir);
  return plan;
}

export function writeJson(path: string, v: unknown): string {
  writeFileSync(path, `${JSON.stringify(v, null, 2)}\n`);
  return path;
}

/** nix-instantiate --eval --strict --json of `expr`, from `cwd`. */
export function nixEval(expr: string, cwd: string): unknown {
  const out = execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "--expr", expr], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NIX_REMOTE: "", NIX_CONFIG: "build-users-group =" },
  });
  return JSON.parse(out.toString());
}
