// Nix evaluates a flake inside a git repository from tracked files only. Files the tool writes into
// a planned flake later (secrets, their module, public keys) must be staged, or nixos-anywhere and
// the operator's next `nixos-rebuild --flake` silently ignore them.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

describe("secrets written into a planned flake", () => {
  it("are tracked by the flake's git, so Nix sees them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-flake-git-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "op", "-f", join(dir, "op")]);
    const flake = join(dir, "node");
    const env = { HOME: dir };
    const plan = await runCli(
      [
        "plan",
        "--example",
        "hetzner-cloud",
        "--out",
        flake,
        "--yes",
        "--ssh-key",
        join(dir, "op.pub"),
        "--log-dir",
        join(dir, "logs"),
      ],
      { env },
    );
    expect(plan.code, plan.stderr).toBe(0);
    const add = await runCli(
      [
        "secrets",
        "add",
        "rpc-token",
        "--generate",
        "hex32",
        "--flake",
        flake,
        "-i",
        join(dir, "op"),
        "--log-dir",
        join(dir, "logs"),
      ],
      { env },
    );
    expect(add.code, add.stderr).toBe(0);

    const tracked = execFileSync("git", ["-C", flake, "ls-files"], { encoding: "utf8" }).split("\n");
    for (const f of [
      "secrets/rpc-token.age",
      "secrets/module.nix",
      "secrets/secrets.nix",
      "secrets/host-key.age",
      "keys/ssh_host_ed25519_key.pub",
    ]) {
      expect(tracked, f).toContain(f);
    }
    const untracked = execFileSync("git", ["-C", flake, "status", "--porcelain", "--untracked-files=all"], {
      encoding: "utf8",
    })
      .split("\n")
      .filter((l) => l.startsWith("??"));
    expect(untracked).toEqual([]);
    // and the flake loads what it tracks: agenix and the module that declares the secret
    expect(readFileSync(join(flake, "flake.nix"), "utf8")).toContain("./secrets/module.nix");
  });
});
