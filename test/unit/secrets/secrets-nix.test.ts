// secrets/secrets.nix round-trips through Nix: whatever a key's comment holds (quotes, backslashes,
// `${`, non-ASCII), nix-instantiate reads back exactly the key lines, per file, host only where due.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { renderSecretsNix, type KeyEntry, type SecretsContext } from "../../../src/secrets/agenix";
import { has, scratch } from "./tools";

const entry = (binding: string, line: string): KeyEntry => ({ binding, line, fingerprint: "", tag: "", recipient: "" });

describe.skipIf(!has("nix-instantiate"))("renderSecretsNix (evaluated by nix-instantiate)", () => {
  const s = scratch();
  afterAll(() => s.remove());

  it("keeps awkward comments intact and gives the host key only to service secrets", () => {
    const op1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a"b\\c ${x} \u00e9';
    const op2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bob@desk";
    const host = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyHostKeyHostKeyHostKeyHostKeyHost root@n1";
    const ctx: SecretsContext = {
      flakeDir: s.dir,
      hostname: "n1",
      operators: [entry("operator1", op1), entry("operator2", op2)],
      host: entry("host", host),
      skipped: [],
    };
    const file = s.path("secrets.nix");
    writeFileSync(file, renderSecretsNix(ctx, ["host-key", "wireguard", "rpc.password"]));
    const r = spawnSync("nix-instantiate", ["--eval", "--strict", "--json", file]);
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toEqual({
      "host-key.age": { publicKeys: [op1, op2] },
      "wireguard.age": { publicKeys: [op1, op2, host] },
      "rpc.password.age": { publicKeys: [op1, op2, host] },
    });
  });
});
