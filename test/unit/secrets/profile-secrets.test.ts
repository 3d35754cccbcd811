// Node templates declare the secrets they need; planning a node of such a profile generates them,
// encrypted to the node's host key and the operator, before the first boot.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

describe("secrets a profile declares", () => {
  it("peer-observer: planning generates the WireGuard key, which the operator and the node's host key decrypt", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-profile-secrets-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "op", "-f", join(dir, "op")]);
    const cfg = join(dir, "node.json");
    execFileSync("sh", ["-c", `printf '{"hostname":"observer1","profile":"peer-observer"}' > '${cfg}'`]);
    const flake = join(dir, "node");
    const r = await runCli(
      [
        "plan",
        "--example",
        "hetzner-dedicated",
        "--config",
        cfg,
        "--out",
        flake,
        "--yes",
        "--ssh-key",
        join(dir, "op.pub"),
        "--log-dir",
        join(dir, "logs"),
      ],
      { env: { HOME: dir } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/generated wireguard-private-key-observer1 for the peer-observer profile/);
    // the reference age CLI decrypts it with the operator's key: a WireGuard private key (32 bytes, base64)
    const wg = execFileSync(
      "age",
      ["-d", "-i", join(dir, "op"), join(flake, "secrets/wireguard-private-key-observer1.age")],
      {
        encoding: "utf8",
      },
    ).trim();
    expect(Buffer.from(wg, "base64")).toHaveLength(32);
    // ... and with the node's host key, which the install will put on the machine
    const hostKey = execFileSync("age", ["-d", "-i", join(dir, "op"), join(flake, "secrets/host-key.age")]);
    execFileSync("sh", ["-c", `umask 077; cat > '${join(dir, "host")}'`], { input: hostKey });
    expect(
      execFileSync("age", ["-d", "-i", join(dir, "host"), join(flake, "secrets/wireguard-private-key-observer1.age")], {
        encoding: "utf8",
      }).trim(),
    ).toBe(wg);
    // secrets.nix names both recipients, and git tracks everything
    expect(readFileSync(join(flake, "secrets/secrets.nix"), "utf8")).toContain("wireguard-private-key-observer1.age");
    expect(execFileSync("git", ["-C", flake, "ls-files", "secrets"], { encoding: "utf8" })).toContain(
      "secrets/wireguard-private-key-observer1.age",
    );
  });
});
