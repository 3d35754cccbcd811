// The probe script itself, run for real: under dash and bash in POSIX mode, and on a "bare"
// system where almost every tool is missing (PATH holding only the shell), where it must still
// finish, report what it could, and say what it could not.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSections } from "../../../src/detect/parse-sections";
import { parseProbeOutput } from "../../../src/detect/parse-probe";
import { PROBE_SCRIPT } from "../../../src/detect/probe-script";

const SECTIONS = ["os-release", "system", "virt", "firmware", "meminfo", "cpuinfo", "lsblk", "sysblock", "by-id", "by-path", "root-mount", "ip-addr", "ip-route4", "ip-route6", "netdev", "resolv", "resolv-upstream", "resolvectl", "dhcp", "hardware", "modules", "warnings"];
const run = (shell: string[], env: NodeJS.ProcessEnv = process.env) => execFileSync(shell[0]!, [...shell.slice(1), "-s"], { input: PROBE_SCRIPT, encoding: "utf8", env });

describe("the probe under different shells", () => {
  it.each([[["dash"]], [["bash", "--posix"]]])("%s: every section, complete, and the same facts", (shell) => {
    const out = run(shell);
    const { sections, complete } = parseSections(out);
    expect(complete).toBe(true);
    expect([...sections.keys()]).toEqual(SECTIONS);
    const f = parseProbeOutput(out);
    const ref = parseProbeOutput(run(["sh"]));
    expect(f).toMatchObject({ hostname: ref.hostname, arch: ref.arch, disks: ref.disks, memory: ref.memory, bootId: ref.bootId });
  });
});

describe("the probe on a system without tools", () => {
  const bare = mkdtempSync(join(tmpdir(), "nn-bare-"));
  afterAll(() => rmSync(bare, { recursive: true, force: true }));
  it("finishes, keeps what builtins and /proc give, and lists what was missing", () => {
    symlinkSync("/usr/bin/dash", join(bare, "sh"));
    const out = execFileSync(join(bare, "sh"), ["-s"], { input: PROBE_SCRIPT, encoding: "utf8", env: { PATH: bare } });
    const { complete } = parseSections(out);
    expect(complete).toBe(true);
    const f = parseProbeOutput(out);
    // read by builtins from /proc and /sys: still right
    expect(f.memory.totalBytes).toBe(parseProbeOutput(run(["sh"])).memory.totalBytes);
    expect(f.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(f.hostname).toBe(parseProbeOutput(run(["sh"])).hostname);
    // no tools: said so, never guessed
    expect(f.tools).toEqual({ tar: false, cpio: false, setsid: false, curl: false, wget: false, kexec: false });
    expect(f.warnings).toEqual(expect.arrayContaining(["virt: systemd-detect-virt not found", "disks: lsblk -J failed or is missing", "network: ip addr failed or ip is missing"]));
    // disks still come from /sys/block: the same ones lsblk reports
    expect(f.disks.map((d) => [d.name, d.sizeBytes])).toEqual(parseProbeOutput(run(["sh"])).disks.map((d) => [d.name, d.sizeBytes]));
  });
});
