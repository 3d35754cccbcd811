import { describe, expect, it } from "vitest";
import {
  buildNixosAnywhereArgs,
  mustBuildOnTarget,
  type NixosAnywhereArgsInput,
} from "../../../src/install/nixos-anywhere-args";
import { parsePhases, remainingPhases } from "../../../src/install/phases";
import { parseAbortLine, parseProgressLine } from "../../../src/install/progress-lines";
import { UserError } from "../../../src/errors";

const GiB = 1024 ** 3;
const base: NixosAnywhereArgsInput = {
  flakeDir: "/home/op/my-node",
  hostName: "node1",
  user: "root",
  host: "203.0.113.7",
  port: 22,
  identityFile: null,
  extraFilesDir: "/tmp/nn-x/extra",
  generateFacterReportTo: null,
  facts: { arch: "x86_64", memory: { totalBytes: 4 * GiB, swapBytes: 0 } },
  operator: { platform: "linux", arch: "x64" },
};

const table: Array<[string, Partial<NixosAnywhereArgsInput>, string[]]> = [
  [
    "defaults: flake, extra files, host last",
    {},
    ["--flake", "/home/op/my-node#node1", "--extra-files", "/tmp/nn-x/extra", "root@203.0.113.7"],
  ],
  [
    "a key file",
    { identityFile: "/home/op/.ssh/id_ed25519" },
    [
      "--flake",
      "/home/op/my-node#node1",
      "-i",
      "/home/op/.ssh/id_ed25519",
      "--extra-files",
      "/tmp/nn-x/extra",
      "root@203.0.113.7",
    ],
  ],
  [
    "a custom port travels with --post-kexec-ssh-port",
    { port: 2222 },
    [
      "--flake",
      "/home/op/my-node#node1",
      "-p",
      "2222",
      "--post-kexec-ssh-port",
      "22",
      "--extra-files",
      "/tmp/nn-x/extra",
      "root@203.0.113.7",
    ],
  ],
  [
    "no facter report yet",
    { generateFacterReportTo: "/home/op/my-node/hosts/node1/facter.json" },
    [
      "--flake",
      "/home/op/my-node#node1",
      "--extra-files",
      "/tmp/nn-x/extra",
      "--generate-hardware-config",
      "nixos-facter",
      "/home/op/my-node/hosts/node1/facter.json",
      "root@203.0.113.7",
    ],
  ],
  [
    "macOS operator builds on the target",
    { operator: { platform: "darwin", arch: "arm64" } },
    [
      "--flake",
      "/home/op/my-node#node1",
      "--extra-files",
      "/tmp/nn-x/extra",
      "--build-on",
      "remote",
      "root@203.0.113.7",
    ],
  ],
  [
    "x86 operator, aarch64 target",
    { facts: { arch: "aarch64", memory: { totalBytes: 4 * GiB, swapBytes: 0 } } },
    [
      "--flake",
      "/home/op/my-node#node1",
      "--extra-files",
      "/tmp/nn-x/extra",
      "--build-on",
      "remote",
      "root@203.0.113.7",
    ],
  ],
  [
    "1.5 GiB of RAM: no disko deps",
    { facts: { arch: "x86_64", memory: { totalBytes: 1.5 * GiB, swapBytes: 0 } } },
    ["--flake", "/home/op/my-node#node1", "--extra-files", "/tmp/nn-x/extra", "--no-disko-deps", "root@203.0.113.7"],
  ],
  [
    "resuming after kexec",
    { phases: ["disko", "install", "reboot"] },
    [
      "--flake",
      "/home/op/my-node#node1",
      "--extra-files",
      "/tmp/nn-x/extra",
      "--phases",
      "disko,install,reboot",
      "root@203.0.113.7",
    ],
  ],
  [
    "all phases: no --phases",
    { phases: ["kexec", "disko", "install", "reboot"] },
    ["--flake", "/home/op/my-node#node1", "--extra-files", "/tmp/nn-x/extra", "root@203.0.113.7"],
  ],
  [
    "password via $SSHPASS",
    { usePasswordFromEnv: true },
    ["--flake", "/home/op/my-node#node1", "--extra-files", "/tmp/nn-x/extra", "--env-password", "root@203.0.113.7"],
  ],
  [
    "IPv6 literal without brackets",
    { host: "[2001:db8::7]" },
    ["--flake", "/home/op/my-node#node1", "--extra-files", "/tmp/nn-x/extra", "root@2001:db8::7"],
  ],
  [
    "the checked kexec tarball of the planned release, as a local file",
    { kexecFile: "/tmp/nixnode-kexec-x/nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz" },
    [
      "--flake",
      "/home/op/my-node#node1",
      "--extra-files",
      "/tmp/nn-x/extra",
      "--kexec",
      "/tmp/nixnode-kexec-x/nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz",
      "root@203.0.113.7",
    ],
  ],
];

describe("buildNixosAnywhereArgs (nixos-anywhere 1.13)", () => {
  it.each(table)("%s", (_name, over, expected) => {
    expect(buildNixosAnywhereArgs({ ...base, ...over })).toEqual(expected);
  });

  it("never emits --force-kexec, a secret, or more than one host, whatever the input", () => {
    for (const [, over] of table) {
      const argv = buildNixosAnywhereArgs({
        ...base,
        ...over,
        port: 2200,
        identityFile: "/k",
        phases: ["install", "reboot"],
      });
      expect(argv).not.toContain("--force-kexec");
      expect(argv.filter((a) => a.includes("@"))).toHaveLength(1);
      expect(argv.at(-1)).toMatch(/@/);
      expect(argv.join(" ")).not.toMatch(/PRIVATE KEY|SSHPASS/);
      // -p never without --post-kexec-ssh-port
      expect(argv.includes("-p")).toBe(argv.includes("--post-kexec-ssh-port"));
    }
  });

  it("refuses a configuration name the flake attribute could not hold", () => {
    expect(() => buildNixosAnywhereArgs({ ...base, hostName: "a#b" })).toThrow(/nixosConfigurations/);
  });

  it("decides where to build", () => {
    expect(mustBuildOnTarget({ platform: "linux", arch: "x64" }, "x86_64")).toBe(false);
    expect(mustBuildOnTarget({ platform: "linux", arch: "arm64" }, "aarch64")).toBe(false);
    expect(mustBuildOnTarget({ platform: "darwin", arch: "x64" }, "x86_64")).toBe(true);
    expect(mustBuildOnTarget({ platform: "linux", arch: "arm64" }, "x86_64")).toBe(true);
  });
});

describe("phases", () => {
  it("parses a list into canonical order", () => {
    expect(parsePhases("reboot,disko")).toEqual(["disko", "reboot"]);
  });
  it.each(["kexec,format", "", "disko,,install", "Kexec"])("rejects %j naming --phases", (list) => {
    expect(() => parsePhases(list)).toThrow(UserError);
    expect(() => parsePhases(list)).toThrow(/^--phases: /);
  });
  it("resumes after the last finished phase", () => {
    expect(remainingPhases([])).toEqual(["kexec", "disko", "install", "reboot"]);
    expect(remainingPhases(["kexec"])).toEqual(["disko", "install", "reboot"]);
    expect(remainingPhases(["kexec", "disko", "install", "reboot"])).toEqual([]);
  });
});

describe("nixos-anywhere output", () => {
  it.each([
    ["### Switching system into kexec ###", "kexec"],
    ["### Formatting hard drive with disko ###", "disko"],
    ["### Generating facter.json using nixos-facter ###", "disko"],
    ["### Copying extra files ###", "install"],
    ["### Installing NixOS ###", "install"],
    ["### Waiting for the machine to become unreachable due to reboot ###", "reboot"],
    ["### Gathering machine facts ###", null],
  ])("%s -> %s", (line, phase) => {
    expect(parseProgressLine(line)?.phase).toBe(phase);
  });
  it("ignores other lines and reads abort reasons", () => {
    expect(parseProgressLine("copying path '/nix/store/...'")).toBeNull();
    expect(parseAbortLine("aborted: Unknown phase: foo")).toBe("Unknown phase: foo");
    expect(parseAbortLine("warning: x")).toBeNull();
  });
});
