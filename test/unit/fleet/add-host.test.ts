// Adding a host to a planned fleet: re-planning into the same folder keeps every existing host's
// files and keys byte for byte, and its mesh address, even when the new host is listed first.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { HOSTS, inventory, makeOperator, planInto, scratch } from "./fleet-fixture";

function snapshot(dir: string, roots: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = join(dir, rel);
    if (statSync(abs).isDirectory()) for (const e of readdirSync(abs)) walk(join(rel, e));
    else out[rel] = readFileSync(abs).toString("base64");
  };
  for (const r of roots) walk(r);
  return out;
}

describe("fleet: adding a host", () => {
  const s = scratch();
  afterAll(() => s.remove());

  it("plan 2 hosts, add a third (listed first): the first two hosts' files and keys are byte-identical, their mesh addresses kept", async () => {
    const op = makeOperator(s.dir);
    const dir = join(s.dir, "fleet");
    const first = await planInto(dir, inventory(op, ["collector1", "node1"]));
    const roots = ["collector1", "node1"].flatMap((n) => [`hosts/${n}`, `keys/${n}`, `secrets/${n}`]);
    const before = snapshot(dir, roots);
    // host key, WireGuard key and (collector) Grafana secrets, per host
    expect(
      Object.keys(before)
        .filter((p) => p.endsWith(".age"))
        .sort(),
    ).toEqual([
      "secrets/collector1/grafana-admin-password.age",
      "secrets/collector1/grafana-secret-key.age",
      "secrets/collector1/host-key.age",
      "secrets/collector1/wireguard-fleet.age",
      "secrets/node1/host-key.age",
      "secrets/node1/wireguard-fleet.age",
    ]);

    const json = inventory(op, ["collector1", "node1"]);
    const grown = { ...json, hosts: { node2: HOSTS.node2, ...json.hosts } };
    const second = await planInto(dir, grown);

    expect(snapshot(dir, roots)).toEqual(before);
    expect(second.secrets.map((x) => x.path).sort()).toEqual([
      "keys/node2/ssh_host_ed25519_key.pub",
      "keys/node2/wireguard-fleet.pub",
      "secrets/node2/host-key.age",
      "secrets/node2/wireguard-fleet.age",
    ]);
    for (const n of ["collector1", "node1"]) {
      expect(second.data.hosts[n]!.meshIp).toBe(first.data.hosts[n]!.meshIp);
      expect(second.data.hosts[n]!.wireguardPublicKey).toBe(first.data.hosts[n]!.wireguardPublicKey);
    }
    expect(first.data.hosts.collector1!.meshIp).toBe("10.44.0.1");
    expect(first.data.hosts.node1!.meshIp).toBe("10.44.0.2");
    expect(second.data.hosts.node2!.meshIp).toBe("10.44.0.3");
    // the new host is everyone's peer: it is in the shared data the mesh module reads
    const data = JSON.parse(readFileSync(join(dir, "fleet/fleet.json"), "utf8")) as { hosts: Record<string, unknown> };
    expect(Object.keys(data.hosts).sort()).toEqual(["collector1", "node1", "node2"]);
  });

  it("a host removed from the inventory is reported and its files are left for the operator", async () => {
    const op = makeOperator(s.dir, "op2");
    const dir = join(s.dir, "fleet2");
    await planInto(dir, inventory(op, ["collector1", "node1", "node2"]));
    const again = await planInto(dir, inventory(op, ["collector1", "node2"]));
    expect(again.removed).toEqual(["node1"]);
    expect(Object.keys(again.data.hosts).sort()).toEqual(["collector1", "node2"]);
    expect(again.data.hosts.node2!.meshIp).toBe("10.44.0.3");
    expect(readdirSync(join(dir, "secrets/node1")).sort()).toEqual(["host-key.age", "wireguard-fleet.age"]);
  });

  it("rotating a node's WireGuard key: deleting its two files and planning again makes a new pair and changes nothing else of that host", async () => {
    const op = makeOperator(s.dir, "op3");
    const dir = join(s.dir, "fleet3");
    const first = await planInto(dir, inventory(op, ["collector1", "node1"]));
    const mine = ["hosts/node1", "keys/node1/ssh_host_ed25519_key.pub", "secrets/node1/host-key.age"];
    const keep = snapshot(dir, mine);
    rmSync(join(dir, "secrets/node1/wireguard-fleet.age"));
    rmSync(join(dir, "keys/node1/wireguard-fleet.pub"));
    const again = await planInto(dir, inventory(op, ["collector1", "node1"]));
    expect(again.data.hosts.node1!.wireguardPublicKey).not.toBe(first.data.hosts.node1!.wireguardPublicKey);
    expect(readFileSync(join(dir, "keys/node1/wireguard-fleet.pub"), "utf8").trim()).toBe(
      again.data.hosts.node1!.wireguardPublicKey,
    );
    expect(again.data.hosts.collector1!.wireguardPublicKey).toBe(first.data.hosts.collector1!.wireguardPublicKey);
    expect(again.data.hosts.node1!.meshIp).toBe(first.data.hosts.node1!.meshIp);
    expect(snapshot(dir, mine)).toEqual(keep);
  });

  it("half a key pair is refused (exit 2, naming the host and the missing file), nothing rewritten", async () => {
    const op = makeOperator(s.dir, "op4");
    const dir = join(s.dir, "fleet4");
    await planInto(dir, inventory(op, ["collector1", "node1"]));
    rmSync(join(dir, "keys/node1/ssh_host_ed25519_key.pub"));
    const before = snapshot(dir, ["."]);
    const err = await planInto(dir, inventory(op, ["collector1", "node1"])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    expect((err as UserError).field).toBe("hosts.node1");
    expect((err as UserError).message).toContain("keys/node1/ssh_host_ed25519_key.pub is missing");
    expect(snapshot(dir, ["."])).toEqual(before);
  });

  it("a damaged fleet/fleet.json is refused (exit 2 naming it), not replaced with new mesh addresses", async () => {
    const op = makeOperator(s.dir, "op5");
    const dir = join(s.dir, "fleet5");
    await planInto(dir, inventory(op, ["collector1", "node1"]));
    writeFileSync(join(dir, "fleet/fleet.json"), '{"schema": 1, "hosts": ');
    const before = snapshot(dir, ["."]);
    const err = await planInto(dir, inventory(op, ["collector1", "node1"])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe("fleet/fleet.json");
    expect(snapshot(dir, ["."])).toEqual(before);
  });
});
