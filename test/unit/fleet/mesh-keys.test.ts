// The mesh's keys checked with the real tools: `age` decrypts each host's WireGuard key with that
// host's SSH host key (itself decrypted with the operator's key) and with no other host's, and
// `wg pubkey` of each private key is the public key every other host lists for it as a peer.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inventory, makeOperator, nixEval, planInto, scratch, type Operator } from "./fleet-fixture";
import type { FleetPlan } from "../../../src/fleet/plan-fleet";

const HAVE = ["age", "wg", "ssh-keygen", "nix-instantiate"].every(
  (c) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0,
);
const NAMES = ["collector1", "node1", "node2"] as const;

describe.skipIf(!HAVE)("fleet mesh keys (real age, wg pubkey, nix-instantiate)", () => {
  const s = scratch();
  let op: Operator;
  let plan: FleetPlan;
  const hostKeyFile: Record<string, string> = {};

  beforeAll(async () => {
    op = makeOperator(s.dir);
    plan = await planInto(join(s.dir, "fleet"), inventory(op, [...NAMES]));
    for (const n of NAMES) {
      const priv = execFileSync("age", ["-d", "-i", op.key, join(s.dir, "fleet", `secrets/${n}/host-key.age`)]);
      hostKeyFile[n] = join(s.dir, `hostkey-${n}`);
      writeFileSync(hostKeyFile[n]!, priv, { mode: 0o600 });
    }
  }, 60_000);
  afterAll(() => s.remove());

  it("each decrypted SSH host key is the key whose .pub and fingerprint the flake records", () => {
    for (const n of NAMES) {
      const pub = execFileSync("ssh-keygen", ["-y", "-f", hostKeyFile[n]!])
        .toString()
        .trim()
        .split(" ")
        .slice(0, 2)
        .join(" ");
      const recorded = execFileSync("cat", [join(s.dir, "fleet", `keys/${n}/ssh_host_ed25519_key.pub`)]).toString();
      expect(recorded.startsWith(pub)).toBe(true);
      const host = nixEval(
        `(builtins.fromJSON (builtins.readFile ./hosts/${n}/host.json)).ssh.hostKeyFingerprint`,
        join(s.dir, "fleet"),
      );
      const fp = execFileSync("ssh-keygen", ["-lf", join(s.dir, "fleet", `keys/${n}/ssh_host_ed25519_key.pub`)])
        .toString()
        .split(" ")[1];
      expect(host).toBe(fp);
    }
  });

  it("age decrypts each host's WireGuard key with that host's SSH key, and with no other host's", () => {
    for (const n of NAMES) {
      const file = join(s.dir, "fleet", `secrets/${n}/wireguard-fleet.age`);
      expect(spawnSync("age", ["-d", "-i", hostKeyFile[n]!, file]).status).toBe(0);
      expect(spawnSync("age", ["-d", "-i", op.key, file]).status).toBe(0);
      for (const other of NAMES.filter((o) => o !== n)) {
        const r = spawnSync("age", ["-d", "-i", hostKeyFile[other]!, file]);
        expect(r.status).not.toBe(0);
        expect(r.stderr.toString()).toMatch(/no identity matched/i);
      }
    }
  });

  it("wg pubkey of each decrypted private key is the public key in every other host's peers (from mesh.nix)", () => {
    const pubOf: Record<string, string> = {};
    for (const n of NAMES) {
      const priv = execFileSync("age", [
        "-d",
        "-i",
        hostKeyFile[n]!,
        join(s.dir, "fleet", `secrets/${n}/wireguard-fleet.age`),
      ]);
      pubOf[n] = execFileSync("wg", ["pubkey"], { input: priv }).toString().trim();
    }
    for (const n of NAMES) {
      const peers = nixEval(
        `let fleet = builtins.fromJSON (builtins.readFile ./fleet/fleet.json);
             m = import ./fleet/mesh.nix { config.age.secrets.wireguard-fleet.path = "/run/agenix/wireguard-fleet"; inherit fleet; fleetHost = "${n}"; };
         in m.networking.wireguard.interfaces.\${fleet.mesh.interface}.peers`,
        join(s.dir, "fleet"),
      ) as Array<{ name: string; publicKey: string; allowedIPs: string[]; endpoint: string }>;
      expect(peers.map((p) => p.name).sort()).toEqual(NAMES.filter((o) => o !== n).sort());
      for (const p of peers) {
        expect(p.publicKey).toBe(pubOf[p.name]);
        expect(p.allowedIPs).toEqual([`${plan.data.hosts[p.name]!.meshIp}/32`]);
      }
    }
    // the IPv6 host's endpoint is bracketed, as wg(8) requires
    expect(plan.data.hosts.node2!.endpoint).toBe("[2001:db8::12]:51820");
  });
});
