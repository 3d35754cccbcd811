// The probe script itself, run for real: under dash and bash in POSIX mode, and on a "bare"
// system where almost every tool is missing (PATH holding only the shell), where it must still
// finish, report what it could, and say what it could not.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSections } from "../../../src/detect/parse-sections";
import { parseProbeOutput } from "../../../src/detect/parse-probe";
import { PROBE_SCRIPT } from "../../../src/detect/probe-script";

const SECTIONS = [
  "os-release",
  "system",
  "virt",
  "firmware",
  "meminfo",
  "cpuinfo",
  "lsblk",
  "sysblock",
  "by-id",
  "by-path",
  "root-mount",
  "ip-addr",
  "ip-route4",
  "ip-route6",
  "netdev",
  "resolv",
  "resolv-upstream",
  "resolvectl",
  "dhcp",
  "hardware",
  "modules",
  "warnings",
];
const run = (shell: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(shell[0]!, [...shell.slice(1), "-s"], { input: PROBE_SCRIPT, encoding: "utf8", env });

describe("the probe under different shells", () => {
  it.each([[["dash"]], [["bash", "--posix"]]])("%s: every section, complete, and the same facts", (shell) => {
    const out = run(shell);
    const { sections, complete } = parseSections(out);
    expect(complete).toBe(true);
    expect([...sections.keys()]).toEqual(SECTIONS);
    const f = parseProbeOutput(out);
    const ref = parseProbeOutput(run(["sh"]));
    expect(f).toMatchObject({
      hostname: ref.hostname,
      arch: ref.arch,
      disks: ref.disks,
      memory: ref.memory,
      bootId: ref.bootId,
    });
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
    expect(f.warnings).toEqual(
      expect.arrayContaining([
        "virt: systemd-detect-virt not found",
        "disks: lsblk -J failed or is missing",
        "network: ip addr failed or ip is missing",
      ]),
    );
    // disks still come from /sys/block: the same ones lsblk reports
    expect(f.disks.map((d) => [d.name, d.sizeBytes])).toEqual(
      parseProbeOutput(run(["sh"])).disks.map((d) => [d.name, d.sizeBytes]),
    );
  });
});

describe("the probe's view of who runs it", () => {
  it("under sudo: SSH_CONNECTION is found in a parent process when sudo dropped it from the environment", () => {
    // sh -c carries SSH_CONNECTION (as the login shell does); the probe below it runs without it and
    // with SUDO_USER set, as `sudo -n sh -c 'sh -s'` leaves things. The address is only a string here.
    const out = execFileSync("sh", ["-c", "env -u SSH_CONNECTION SUDO_USER=alice sh -s"], {
      input: PROBE_SCRIPT,
      encoding: "utf8",
      env: { ...process.env, SSH_CONNECTION: "198.51.100.23 50312 203.0.113.7 22" },
    });
    const root = process.getuid?.() === 0;
    expect(parseProbeOutput(out)).toMatchObject({
      operatorAddress: "198.51.100.23",
      access: { user: "alice", isRoot: root },
    });
    if (root) expect(parseProbeOutput(out).access.sudo).toBe("passwordless");
  });
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
  it.skipIf(process.getuid?.() !== 0 || !setpriv)(
    "as an unprivileged user: not root, and no sudo to become root",
    () => {
      const out = execFileSync(setpriv!, ["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-s"], {
        input: PROBE_SCRIPT,
        encoding: "utf8",
        cwd: "/",
      });
      const f = parseProbeOutput(out);
      expect(f.access.isRoot).toBe(false);
      expect(f.access.user).toBe(execFileSync("id", ["-un", "65534"], { encoding: "utf8" }).trim());
      expect(["none", "password"]).toContain(f.access.sudo);
      expect(f.memory.totalBytes).toBeGreaterThan(0); // what any user may read still arrives
    },
  );
});
