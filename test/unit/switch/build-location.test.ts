// Where the new system is built, and the exact local commands. The local build itself was NOT run
// against a real NixOS build here (Debian's Nix 2.8 cannot build NixOS); these tests hold the
// decision and the argv, and run the printed commands through a real sh to prove the quoting.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  chooseBuildLocation,
  copyTargetProblem,
  describeLocalBuild,
  localBuildArgv,
  nixCopyCommand,
  parseNixVersion,
} from "../../../src/switch/build-location";

describe("chooseBuildLocation", () => {
  it("builds locally only with a recent Nix on the node's architecture", () => {
    expect(chooseBuildLocation({ versionText: "nix (Nix) 2.24.9", system: "x86_64-linux" }, "x86_64-linux")).toEqual({
      where: "local",
      reason: "this machine has Nix 2.24.9 on x86_64-linux, like the node",
    });
    expect(chooseBuildLocation({ versionText: "nix (Nix) 2.24.9", system: "aarch64-darwin" }, "x86_64-linux")).toEqual({
      where: "target",
      reason: "this machine is aarch64-darwin, the node is x86_64-linux",
    });
    expect(chooseBuildLocation({ versionText: null, system: null }, "x86_64-linux").where).toBe("target");
    // Debian's Nix on this machine
    expect(chooseBuildLocation({ versionText: "nix (Nix) 2.8.0", system: "x86_64-linux" }, "x86_64-linux")).toEqual({
      where: "target",
      reason: "this machine's Nix 2.8.0 is older than 2.18, too old to build NixOS",
    });
    expect(chooseBuildLocation({ versionText: "nix (Nix) 2.18", system: null }, "x86_64-linux").where).toBe("target");
    expect(
      chooseBuildLocation({ versionText: "nix (Nix) 3.0.1", system: "aarch64-linux" }, "aarch64-linux").where,
    ).toBe("local");
  });

  it("reads the versions nix prints, including Lix-style text", () => {
    expect(parseNixVersion("nix (Nix) 2.18.1")).toEqual([2, 18, 1]);
    expect(parseNixVersion("nix (Lix, like Nix) 2.91.1")).toEqual([2, 91, 1]);
    expect(parseNixVersion("command not found")).toBeNull();
  });
});

describe("the local build's commands", () => {
  const target = { user: "root", host: "203.0.113.7", port: 2222, knownHostsFile: "/home/op/.ssh/known_hosts" };

  it("nix build and nix copy argv: pinned host key, the node's port, one installable", () => {
    expect(localBuildArgv("/home/op/my node", "node1")).toEqual([
      "nix",
      "--extra-experimental-features",
      "nix-command flakes",
      "build",
      "--no-link",
      "--print-out-paths",
      "path:/home/op/my node#nixosConfigurations.node1.config.system.build.toplevel",
    ]);
    const c = nixCopyCommand("/nix/store/abc-nixos-system-node1", {
      ...target,
      identityFile: "/home/op/.ssh/id_ed25519",
    });
    expect(c.argv.slice(-3)).toEqual(["--to", "ssh-ng://root@203.0.113.7", "/nix/store/abc-nixos-system-node1"]);
    expect(c.env.NIX_SSHOPTS).toBe(
      "-p 2222 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/home/op/.ssh/known_hosts -i /home/op/.ssh/id_ed25519 -o IdentitiesOnly=yes",
    );
    expect(nixCopyCommand("/nix/store/x", { ...target, host: "2001:db8::7" }).argv).toContain(
      "ssh-ng://root@[2001:db8::7]",
    );
  });

  it("a path with a space cannot ride in NIX_SSHOPTS: named, so the caller refuses it", () => {
    expect(copyTargetProblem(target)).toBeNull();
    expect(copyTargetProblem({ ...target, knownHostsFile: "/home/o p/kh" })).toMatch(/known_hosts path .* has a space/);
  });

  it("the printed commands are quoted: a hostile flake folder name stays one word in sh", () => {
    const dir = "/tmp/it's $(touch /tmp/nn-pwned) here";
    const [build] = describeLocalBuild(dir, "node1", target);
    // replace the program with printf to see the words sh really passes
    const words = execFileSync("/bin/sh", ["-c", build!.replace(/^'?nix'? /, "printf '%s\\n' ")], { encoding: "utf8" })
      .trimEnd()
      .split("\n");
    expect(words).toEqual(localBuildArgv(dir, "node1").slice(1));
    expect(existsSync("/tmp/nn-pwned")).toBe(false);
  });
});
