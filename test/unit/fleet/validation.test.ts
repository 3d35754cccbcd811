// Bad inventories, through the real CLI: exit 2, the message and the error's field name
// `hosts.<name>.<field>` (or the flag), a fix, and nothing written (the --out folder never appears).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { HOSTS, inventory, makeOperator, type Operator } from "./fleet-fixture";

type Inv = ReturnType<typeof inventory> & Record<string, unknown>;
const hostsOf = (inv: Inv) => inv.hosts as Record<string, Record<string, unknown>>;

const ROWS: Array<{ what: string; edit: (inv: Inv, op: Operator) => Inv | string; field: string; hint: RegExp }> = [
  {
    what: "two hosts with one address",
    edit: (inv) => ((hostsOf(inv).node2 = { ...HOSTS.node2, address: "203.0.113.11" }), inv),
    field: "hosts.node2.address",
    hint: /its own address/,
  },
  {
    what: "two hosts in one mesh address",
    edit: (inv) => (
      (hostsOf(inv).node1 = { ...HOSTS.node1, meshIp: "10.44.0.7" }),
      (hostsOf(inv).node2 = { ...HOSTS.node2, meshIp: "10.44.0.7" }),
      inv
    ),
    field: "hosts.node2.meshIp",
    hint: /own mesh address/,
  },
  {
    what: "a mesh address outside mesh.subnet",
    edit: (inv) => ((hostsOf(inv).node1 = { ...HOSTS.node1, meshIp: "10.45.0.7" }), inv),
    field: "hosts.node1.meshIp",
    hint: /leave meshIp out/,
  },
  {
    what: "an IPv6 mesh that is not one /64",
    edit: (inv) => ({ ...inv, mesh: { subnet: "fd8a:41c2:7e10::/48" } }),
    field: "mesh.subnet",
    hint: /\/64/,
  },
  {
    what: "an IPv6 mesh outside the unique local range",
    edit: (inv) => ({ ...inv, mesh: { subnet: "2001:db8:1:2::/64" } }),
    field: "mesh.subnet",
    hint: /fd00::\/8 \(RFC 4193\)/,
  },
  {
    what: "an IPv6 mesh with host bits set",
    edit: (inv) => ({ ...inv, mesh: { subnet: "fd8a:41c2:7e10:1::5/64" } }),
    field: "mesh.subnet",
    hint: /fd8a:41c2:7e10:1::\/64/,
  },
  {
    what: "two hosts in one IPv6 mesh address, written two ways",
    edit: (inv) => (
      (inv.mesh = { subnet: "fd8a:41c2:7e10:1::/64" }),
      (hostsOf(inv).node1 = { ...HOSTS.node1, meshIp: "fd8a:41c2:7e10:1::7" }),
      (hostsOf(inv).node2 = { ...HOSTS.node2, meshIp: "FD8A:41C2:7E10:0001:0:0:0:7" }),
      inv
    ),
    field: "hosts.node2.meshIp",
    hint: /own mesh address/,
  },
  {
    what: "an IPv4 mesh address in an IPv6 mesh",
    edit: (inv) => (
      (inv.mesh = { subnet: "fd8a:41c2:7e10:1::/64" }),
      (hostsOf(inv).node1 = { ...HOSTS.node1, meshIp: "10.44.0.7" }),
      inv
    ),
    field: "hosts.node1.meshIp",
    hint: /leave meshIp out/,
  },
  {
    what: "no collector",
    edit: (inv) => ((hostsOf(inv).collector1 = { ...HOSTS.collector1, role: "node" }), inv),
    field: "hosts.collector1.role",
    hint: /"role": "collector"/,
  },
  {
    what: "two collectors",
    edit: (inv) => ((hostsOf(inv).node2 = { ...HOSTS.node2, role: "collector" }), inv),
    field: "hosts.node2.role",
    hint: /one collector per fleet/,
  },
  {
    what: "a host without an operator key",
    edit: (inv) => ({ ...inv, defaults: { ssh: { port: 2222 } } }) as Inv,
    field: "hosts.collector1.ssh.authorizedKeys",
    hint: /add your public key/,
  },
  {
    what: "the same host name twice (JSON keeps only the last)",
    edit: (inv) =>
      JSON.stringify(inv, null, 2).replace('"node2": {', '"node1": {"address": "203.0.113.99"},\n    "node2": {'),
    field: "hosts.node1",
    hint: /its own name/,
  },
  {
    what: "a nixnode.json field of one host",
    edit: (inv) => ((hostsOf(inv).node1 = { ...HOSTS.node1, ssh: { port: 22 } }), inv),
    field: "hosts.node1.ssh.port",
    hint: /2222/,
  },
  {
    what: "an unknown role",
    edit: (inv) => ((hostsOf(inv).node1 = { ...HOSTS.node1, role: "web" }), inv),
    field: "hosts.node1.role",
    hint: /.+/,
  },
  {
    what: "a host name that is not a DNS label",
    edit: (inv) => ((hostsOf(inv)["Node_4"] = { ...HOSTS.node2, address: "203.0.113.44" }), inv),
    field: "hosts.Node_4",
    hint: /letters a-z|lowercase/,
  },
  {
    what: "a machine that cannot be installed (preflight, from its facts)",
    edit: (inv) => ((hostsOf(inv).node2 = { ...HOSTS.node2, example: "oracle-micro-1gb" }), inv),
    field: "hosts.node2.preflight.memory",
    hint: /RAM/,
  },
];

describe("fleet plan refuses bad inventories (exit 2, hosts.<name>.<field>, nothing written)", () => {
  let work: string;
  let op: Operator;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "nixnode-test-fleet-cli-"));
    op = makeOperator(work);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each(ROWS)("$what -> $field", async ({ edit, field, hint }) => {
    const inv = edit(inventory(op, ["collector1", "node1", "node2"]) as Inv, op);
    const file = join(work, `fleet-${field}.json`);
    writeFileSync(file, typeof inv === "string" ? inv : JSON.stringify(inv, null, 2));
    const out = join(work, `out-${field}`);
    const r = await runCli(["fleet", "plan", "--inventory", file, "--out", out, "--json"]);
    expect(r.code).toBe(2);
    const error = r.events.find((e) => e.type === "error") as
      { message: string; field?: string; hint?: string } | undefined;
    expect(error, r.stdout + r.stderr).toBeDefined();
    expect(error!.field).toBe(field);
    expect(error!.message).toContain(field);
    expect(error!.hint ?? "").toMatch(hint);
    expect(existsSync(out)).toBe(false);
    // a secret never shows: no private key in anything printed
    expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY/);
  });

  it("a good inventory through the same CLI writes the fleet flake (exit 0)", async () => {
    const file = join(work, "fleet.json");
    writeFileSync(file, JSON.stringify(inventory(op, ["collector1", "node1"])));
    const out = join(work, "good");
    const r = await runCli(["fleet", "plan", "--inventory", file, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, "fleet/fleet.json"))).toBe(true);
    expect(existsSync(join(out, "secrets/node1/wireguard-fleet.age"))).toBe(true);
    expect(r.stdout).toContain("node1: node, 203.0.113.11, mesh 10.44.0.2, SSH admin@ port 2201");
  });

  it("fleet switch on a folder that holds no fleet plan is refused before any packet (exit 2, --flake)", async () => {
    const r = await runCli(["fleet", "switch", "--flake", work, "--json"]);
    expect(r.code).toBe(2);
    const error = r.events.find((e) => e.type === "error") as { field?: string; hint?: string } | undefined;
    expect(error?.field).toBe("--flake");
    expect(error?.hint).toMatch(/fleet plan --out/);
  });
});
