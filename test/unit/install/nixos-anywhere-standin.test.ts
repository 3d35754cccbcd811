// The nixos-anywhere stand-in must reject exactly what 1.13 rejects or misparses; and everything the
// tool's argv builder emits must pass it. Both are checked by running the stand-in's own parser.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildNixosAnywhereArgs } from "../../../src/install/nixos-anywhere-args";

const STANDIN = fileURLToPath(new URL("../../targets/standins/bin/nixos-anywhere", import.meta.url));
const PARSER = fileURLToPath(new URL("../../targets/standins/lib/parse-args.mjs", import.meta.url));

function parse(argv: string[]): { ok: true; o: Record<string, unknown> } | { ok: false; abort: string } {
  const out = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `
    import { parseNixosAnywhereArgs, Abort } from ${JSON.stringify(PARSER)};
    try { console.log(JSON.stringify({ ok: true, o: parseNixosAnywhereArgs(JSON.parse(process.argv[1])) })); }
    catch (e) { if (!(e instanceof Abort)) throw e; console.log(JSON.stringify({ ok: false, abort: e.message })); }`,
      JSON.stringify(argv),
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out);
}

const ok = ["--flake", "/f#node1", "--extra-files", "/x", "root@192.0.2.1"];
const rejected: Array<[string, string[], RegExp]> = [
  ["an unknown flag", ["--flake", "/f#n", "--frobnicate", "root@h"], /unknown flag --frobnicate/],
  ["a flake without #name", ["--flake", "/f", "root@h"], /URI fragment/],
  ["--post-kexec-ssh-port without -p", ["--flake", "/f#n", "--post-kexec-ssh-port", "22", "root@h"], /without -p/],
  ["an unknown phase", ["--flake", "/f#n", "--phases", "kexec,format", "root@h"], /Unknown phase: format/],
  [
    "--vm-test with extra files",
    ["--flake", "/f#n", "--vm-test", "--extra-files", "/x"],
    /--vm-test is not supported with --extra-files/,
  ],
  ["--vm-test with remote builds", ["--flake", "/f#n", "--vm-test", "--build-on", "remote"], /--vm-test/],
  ["two hosts", ["--flake", "/f#n", "root@a", "root@b"], /more than one host/],
  ["no host", ["--flake", "/f#n"], /ssh-host must be set/],
  ["neither flake nor store paths", ["root@h"], /--flake or --store-paths/],
  ["--force-kexec before another flag", ["--force-kexec", "--flake", "/f#n", "root@h"], /swallows the next argument/],
  ["a flag taken as a value", ["--flake", "--extra-files", "/x", "root@h"], /cannot be a value/],
  ["a bad --build-on", ["--flake", "/f#n", "--build-on", "cloud", "root@h"], /--build-on/],
  [
    "an unknown hardware backend",
    ["--flake", "/f#n", "--generate-hardware-config", "lshw", "/p", "root@h"],
    /Unknown hardware config backend/,
  ],
  ["a non-numeric port", ["--flake", "/f#n", "-p", "22x", "--post-kexec-ssh-port", "22", "root@h"], /not a port/],
];

describe("nixos-anywhere stand-in (1.13 command line)", () => {
  it.each(rejected)("rejects %s", (_name, argv, message) => {
    const r = parse(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.abort).toMatch(message);
  });

  it("exits 1 with `aborted: ...` on stderr, as 1.13's abort does", () => {
    const r = spawnSync(STANDIN, ["--flake", "/f", "root@h"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^aborted: /m);
  });

  it("accepts a plain valid command line", () => {
    expect(parse(ok)).toMatchObject({ ok: true, o: { flake: "/f", flakeAttr: "node1", host: "root@192.0.2.1" } });
  });

  it("accepts every argv the tool builds", () => {
    const GiB = 1024 ** 3;
    for (const port of [22, 2222])
      for (const ram of [1.2 * GiB, 8 * GiB])
        for (const phases of [undefined, ["disko", "install", "reboot"] as const]) {
          const argv = buildNixosAnywhereArgs({
            flakeDir: "/home/op/node",
            hostName: "node1",
            user: "root",
            host: "192.0.2.1",
            port,
            identityFile: "/k",
            extraFilesDir: "/x",
            generateFacterReportTo: port === 22 ? "/home/op/node/hosts/node1/facter.json" : null,
            facts: { arch: "aarch64", memory: { totalBytes: ram, swapBytes: 0 } },
            operator: { platform: "darwin", arch: "arm64" },
            phases: phases ? [...phases] : undefined,
            usePasswordFromEnv: port === 2222,
          });
          const r = parse(argv);
          expect(r, argv.join(" ")).toMatchObject({ ok: true });
        }
  });
});
