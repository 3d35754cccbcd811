// The run log's folder and file cannot be turned against the user running the tool: a folder that
// another local user made (or a symlink) is refused with exit 2, and a symlink planted at the log
// file's name is never followed. Runs as root in CI, so "another user" is nobody (uid 65534).
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../helpers/cli";
import { createLog } from "../../../src/ui/log";
import { KEY_ED25519 } from "../plan/fixtures";

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const root = mkdtempSync(join(tmpdir(), "nixnode-log-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const scratchTmp = () => {
  const d = join(root, `tmp${n++}`);
  mkdirSync(d);
  return d;
};

/** A command that opens the log and otherwise succeeds: `secrets list` on a valid flake. */
function flake(): string {
  const f = join(root, `flake${n++}`);
  mkdirSync(f);
  writeFileSync(
    join(f, "nixnode.json"),
    JSON.stringify({ hostname: "logtest", ssh: { authorizedKeys: [KEY_ED25519] } }),
  );
  return f;
}

describe("the default log folder: $TMPDIR/nixnode-install-<uid>", () => {
  it("is made 0700 and the log file 0600; a run works", async () => {
    const tmp = scratchTmp();
    const r = await runCli(["secrets", "list", "--flake", flake()], { env: { TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(0);
    const dir = join(tmp, `nixnode-install-${process.getuid!()}`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const logs = readdirSync(dir);
    expect(logs).toHaveLength(1);
    expect(statSync(join(dir, logs[0]!)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, logs[0]!), "utf8")).toMatch(/nixnode-install .* secrets/);
  });

  it.skipIf(!IS_ROOT)(
    "made by another user first: refused (exit 2, names the folder and the fix), nothing written in it",
    async () => {
      const tmp = scratchTmp();
      const dir = join(tmp, `nixnode-install-${process.getuid!()}`);
      mkdirSync(dir, { mode: 0o777 });
      chmodSync(dir, 0o777);
      chownSync(dir, NOBODY, NOBODY);
      const r = await runCli(["secrets", "list", "--flake", flake()], { env: { TMPDIR: tmp } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--log-dir: the log folder ${dir} belongs to uid ${NOBODY}, not to you (uid 0)`);
      expect(r.stderr).toMatch(/fix: remove it .*rm -r/);
      expect(readdirSync(dir)).toEqual([]);
      expect(statSync(dir).uid).toBe(NOBODY);
    },
  );

  it("a symlink to a folder: refused (exit 2), the folder it points to stays empty", async () => {
    const tmp = scratchTmp();
    const elsewhere = join(root, `elsewhere${n++}`);
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(tmp, `nixnode-install-${process.getuid!()}`));
    const r = await runCli(["secrets", "list", "--flake", flake()], { env: { TMPDIR: tmp } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--log-dir: the log folder .* is a symlink, not a folder/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it("ours but left group/world-readable by an older run: tightened to 0700", async () => {
    const tmp = scratchTmp();
    const dir = join(tmp, `nixnode-install-${process.getuid!()}`);
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const r = await runCli(["secrets", "list", "--flake", flake()], { env: { TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});

describe("--log-dir", () => {
  it.skipIf(!IS_ROOT)(
    "a folder owned by another user: refused (exit 2, names --log-dir), nothing written in it",
    async () => {
      const dir = join(root, `theirs${n++}`);
      mkdirSync(dir);
      chmodSync(dir, 0o777);
      chownSync(dir, NOBODY, NOBODY);
      const r = await runCli(["secrets", "list", "--flake", flake(), "--log-dir", dir], {
        env: { TMPDIR: scratchTmp() },
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--log-dir/);
      expect(r.stderr).toContain(`belongs to uid ${NOBODY}`);
      expect(readdirSync(dir)).toEqual([]);
    },
  );
});

describe("the log file", () => {
  afterEach(() => vi.useRealTimers());

  it("a symlink planted at its exact name is not followed: the target is unchanged, the log goes to a new file", () => {
    const dir = join(root, `planted${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    const victim = join(root, `victim${n++}`);
    writeFileSync(victim, "victim's own content\n");
    const now = new Date("2026-01-02T03:04:05.678Z");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now);
    const planted = join(dir, `run-${now.toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`);
    symlinkSync(victim, planted);
    const log = createLog(dir);
    log.write("a line that must not reach the victim");
    expect(readFileSync(victim, "utf8")).toBe("victim's own content\n");
    expect(readlinkSync(planted)).toBe(victim);
    expect(log.path).not.toBe(planted);
    expect(readFileSync(log.path!, "utf8")).toBe("a line that must not reach the victim\n");
    expect(statSync(log.path!).mode & 0o777).toBe(0o600);
  });
});
