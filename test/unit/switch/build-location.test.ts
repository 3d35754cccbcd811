// Where the new system is built, and the exact local commands. The local build itself was NOT run
// against a real NixOS build here (Debian's Nix 2.8 cannot build NixOS); these tests hold the
// decision and the argv, and run the printed commands through a real sh to prove the quoting.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { buildAndCopyLocally, probeLocalNix } from "../../../src/switch/build-local";
import {
  chooseBuildLocation,
  decideBuildLocation,
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

// The CLI's choice (--build-on x this machine's Nix): probeLocalNix asks a real program on PATH,
// here the operator-side stand-in (test/targets/standins/operator-nix) with its version and system
// knobs, an empty PATH (no nix) and, when installed, Debian's own nix.
describe("--build-on: auto, local, target against this machine's Nix", () => {
  const STANDIN = fileURLToPath(new URL("../../targets/standins/operator-nix", import.meta.url));
  const scratch = mkdtempSync(join(tmpdir(), "nn-buildon-"));
  const noNix = join(scratch, "empty-bin");
  mkdirSync(noNix);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const copy = { user: "root", host: "203.0.113.7", port: 2222, knownHostsFile: "/tmp/nixnode-copy-x/known_hosts" };
  const withStandin = (version: string, system: string) => ({
    ...process.env,
    PATH: `${STANDIN}:${process.env.PATH ?? ""}`,
    NIXNODE_OPERATOR_NIX_VERSION: version,
    NIXNODE_OPERATOR_NIX_SYSTEM: system,
  });
  const cases = {
    present: withStandin("2.24.9", "x86_64-linux"),
    absent: { ...process.env, PATH: noNix },
    old: withStandin("2.8.0", "x86_64-linux"),
    "other arch": withStandin("2.24.9", "aarch64-linux"),
  };
  const decide = async (buildOn: "auto" | "local" | "target", nix: keyof typeof cases) =>
    decideBuildLocation(buildOn, await probeLocalNix(cases[nix]), "x86_64-linux", copy);

  it("auto: here only with a recent Nix for the node's system, else on the node with the reason", async () => {
    expect(await decide("auto", "present")).toEqual({
      where: "local",
      reason: "this machine has Nix 2.24.9 on x86_64-linux, like the node",
    });
    expect(await decide("auto", "absent")).toEqual({ where: "target", reason: "this machine has no Nix" });
    expect(await decide("auto", "old")).toEqual({
      where: "target",
      reason: "this machine's Nix 2.8.0 is older than 2.18, too old to build NixOS",
    });
    expect(await decide("auto", "other arch")).toEqual({
      where: "target",
      reason: "this machine is aarch64-linux, the node is x86_64-linux",
    });
  });

  it("local: here when it can, else an error with the reason (the CLI's exit 2 naming --build-on)", async () => {
    expect(await decide("local", "present")).toMatchObject({ where: "local" });
    expect(await decide("local", "absent")).toEqual({ error: "this machine has no Nix" });
    expect(await decide("local", "old")).toEqual({
      error: "this machine's Nix 2.8.0 is older than 2.18, too old to build NixOS",
    });
    expect(await decide("local", "other arch")).toEqual({
      error: "this machine is aarch64-linux, the node is x86_64-linux",
    });
  });

  it("target: always on the node, whatever this machine has", async () => {
    for (const nix of Object.keys(cases) as Array<keyof typeof cases>)
      expect(await decide("target", nix)).toEqual({ where: "target", reason: "--build-on target" });
  });

  it("a copy NIX_SSHOPTS cannot carry: auto falls back to the node, local refuses", async () => {
    const local = await probeLocalNix(cases.present);
    const spaced = { ...copy, identityFile: "/home/o p/.ssh/id_ed25519" };
    expect(decideBuildLocation("auto", local, "x86_64-linux", spaced)).toMatchObject({
      where: "target",
      reason: expect.stringMatching(/key path .* has a space.*so it builds on the node/),
    });
    expect(decideBuildLocation("local", local, "x86_64-linux", spaced)).toMatchObject({
      error: expect.stringMatching(/key path .* has a space/),
    });
  });

  it.skipIf(!existsSync("/usr/bin/nix"))("Debian's own nix (2.8) on PATH: auto builds on the node", async () => {
    const local = await probeLocalNix({ ...process.env, PATH: "/usr/bin:/bin" });
    expect(local.versionText).toMatch(/^nix \(Nix\) 2\.8\b/);
    expect(decideBuildLocation("auto", local, "x86_64-linux", copy)).toMatchObject({ where: "target" });
  });

  it("a local build that fails: exit 3, nothing copied, nix's own last lines in the details", async () => {
    const flake = join(scratch, "flake");
    mkdirSync(join(flake, "hosts", "node1"), { recursive: true });
    writeFileSync(join(flake, "flake.nix"), "{ outputs = _: { }; }\n");
    writeFileSync(join(flake, "hosts", "node1", "host.json"), "{ not json");
    const logFile = join(scratch, "nix.log");
    const err = await buildAndCopyLocally({
      flakeDir: flake,
      hostname: "node1",
      copy: { user: "root", host: "127.0.0.1", port: 1 },
      keyLine: "ssh-ed25519 AAAA",
      log: () => undefined,
      env: { ...cases.present, NIXNODE_OPERATOR_NIX_STORE: join(scratch, "store"), NIXNODE_OPERATOR_NIX_LOG: logFile },
    }).catch((e: Error & { exitCode?: number; details?: string[] }) => e);
    expect(err).toBeInstanceOf(Error);
    const e = err as Error & { exitCode?: number; details?: string[] };
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain("did not build on this machine");
    expect(e.message).toContain("nothing was copied or activated");
    expect(e.details?.join("\n")).toMatch(/while parsing JSON from .*host\.json/);
    expect(existsSync(logFile)).toBe(false); // the stand-in logs a build only when it made one, and no copy ran
  });
});
