// install --dry-run against a real throwaway target: it connects and probes once (read-only), lists
// every install step with the nixos-anywhere command it would run, and changes nothing: no flake,
// no host key, no file anywhere on the operator's side but the run log, and the target's files,
// boot and host key exactly as before.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { INSTALL_STEPS } from "../../../src/install/run-install";
import { targetsSupported } from "../../targets/index";
import { STANDIN_BIN, installFixture, type InstallFixture } from "./install-fixture";
import { runInProcess } from "./run-in-process";

const supported = targetsSupported();
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

/** Every file under dir with a digest of its bytes (symlinks and sockets by kind). */
function tree(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (skip(rel)) continue;
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        files.set(`${rel}/`, "dir");
        walk(p);
      } else if (st.isFile()) files.set(rel, createHash("sha256").update(readFileSync(p)).digest("hex"));
      else files.set(rel, "special");
    }
  };
  walk(dir);
  return files;
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

describe.skipIf(!supported.ok)(`install --dry-run ${supported.ok ? "" : `(skipped: ${supported.reason})`}`, () => {
  it("lists every step and the nixos-anywhere command, and changes nothing here or on the target", async () => {
    f = await installFixture();
    const tmp = join(f.work, "tmp");
    mkdirSync(tmp, { mode: 0o700 });
    const bootBefore = await f.target.bootId();
    const keyBefore = await f.target.hostKeyFingerprint();
    // the target's own files (its etc, the stand-in disks and installer state); sshd's log grows, by design
    const skipTarget = (rel: string) => /(^|\/)(log|logs|run)(\/|$)|\.log$|\.pid$/.test(rel);
    const targetBefore = tree(f.target.dir, skipTarget);
    const operatorBefore = tree(f.work);
    const sshdLogBefore = (await f.target.sshdLog()).length;

    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    let r;
    try {
      r = await f.install(["--dry-run"]);
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
    expect(r.stderr).toBe("");
    expect(r.code, r.stdout).toBe(0);

    const result = r.events.find((e) => e.type === "result") as {
      data: {
        dryRun: boolean;
        steps: Array<{ name: string; status: string; reason: string | null; command: string[] | null }>;
      };
    };
    expect(result.data.dryRun).toBe(true);
    const steps = result.data.steps;
    expect(steps.map((s) => s.name)).toEqual(INSTALL_STEPS.map((s) => s.name));
    expect(steps.every((s) => s.status === "would-run" && s.reason === null)).toBe(true);
    // one event per step as it is known, the same as the result lists
    const perStep = r.events.filter(
      (e) => (e.data as { dryRun?: boolean } | undefined)?.dryRun === true && e.type === "info",
    );
    expect(perStep.map((e) => (e.data as { name: string }).name)).toEqual(INSTALL_STEPS.map((s) => s.name));

    // the exact argv: the planned (unwritten) flake, the operator's key, placeholders for what only a real run makes
    const engine = steps.find((s) => s.name === "run-engine")!;
    const argv = engine.command!;
    expect(argv.slice(0, 5)).toEqual([
      join(STANDIN_BIN, "nixos-anywhere"),
      "--flake",
      `${f.flakeDir}#node1`,
      "-i",
      f.key.privatePath,
    ]);
    expect(argv[argv.indexOf("--extra-files") + 1]).toBe("<staged-host-key-dir>");
    expect(argv[argv.indexOf("--kexec") + 1]).toBe("<kexec-tarball-checked-here>");
    expect(argv).not.toContain("--generate-hardware-config");
    expect(argv).not.toContain("--phases");
    expect(argv.at(-1)).toBe(`root@${f.target.address}`);
    expect(argv.filter((a) => a.startsWith("root@"))).toHaveLength(1);

    // operator side: only the run log is new; no flake folder, no temp files
    expect(existsSync(f.flakeDir)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
    const operatorChanges = changed(operatorBefore, tree(f.work));
    expect(operatorChanges).toHaveLength(1);
    expect(operatorChanges[0]).toMatch(/^logs\/[^/]+$/);
    expect(existsSync(f.knownHosts) ? readFileSync(f.knownHosts, "utf8") : "").toBe("");

    // target side: same boot, same host key, same files, and one read-only login only
    expect(await f.target.bootId()).toBe(bootBefore);
    expect(await f.target.hostKeyFingerprint()).toBe(keyBefore);
    expect(changed(targetBefore, tree(f.target.dir, skipTarget))).toEqual([]);
    const sshd = (await f.target.sshdLog()).slice(sshdLogBefore);
    (await import("node:fs")).writeFileSync(
      "/tmp/h12-debug.txt",
      [targetBefore.size, [...targetBefore.keys()].join(" "), sshd, r.stdout].join("\n====\n"),
    );
    expect(sshd.match(/Accepted publickey/g) ?? []).toHaveLength(1);
    expect(sshd.match(/Starting session: command/g) ?? []).toHaveLength(1);
    expect(sshd).not.toMatch(/Failed|Invalid user|subsystem request|Starting session: (shell|forced|subsystem)/);
  });

  it("with the built-in engine: lists its commands on the target; the target's disk and downloads stay untouched", async () => {
    f = await installFixture({ engine: "builtin" });
    const disk = () => createHash("sha256").update(readFileSync(f!.diskImage!)).digest("hex");
    const diskBefore = disk();
    const keyBefore = await f.target.hostKeyFingerprint();
    const bootBefore = await f.target.bootId();
    const r = await f.install(["--dry-run"]);
    expect(r.stderr).toBe("");
    expect(r.code, r.stdout).toBe(0);
    const result = r.events.find((e) => e.type === "result") as {
      data: { steps: Array<{ name: string; command: string[] | null; targetCommands: string[] | null }> };
    };
    expect(result.data.steps.map((s) => s.name)).toEqual(INSTALL_STEPS.map((s) => s.name));
    const engine = result.data.steps.find((s) => s.name === "run-engine")!;
    expect(engine.command).toBeNull();
    const cmds = engine.targetCommands!;
    expect(
      cmds.some((c) =>
        c.startsWith("nixos-install --no-root-passwd --no-channel-copy --flake '/root/nixnode-flake#node1'"),
      ),
    ).toBe(true);
    expect(cmds.at(-1)).toMatch(/reboot/);
    // nothing was downloaded, formatted or rebooted
    expect(disk()).toBe(diskBefore);
    expect(f.downloadsLog && existsSync(f.downloadsLog) ? readFileSync(f.downloadsLog, "utf8") : "").toBe("");
    expect(await f.target.bootId()).toBe(bootBefore);
    expect(await f.target.hostKeyFingerprint()).toBe(keyBefore);
    expect(existsSync(f.flakeDir)).toBe(false);
  });

  it("--flake DIR in a terminal-less human run: the steps as text, the command line, the flake byte for byte", async () => {
    f = await installFixture();
    const ssh = ["-i", f.key.privatePath, "--host-key", f.originalFingerprint, "--known-hosts", f.knownHosts];
    const target = `root@${f.target.address}`;
    const plan = await runInProcess(["plan", target, "--config", f.configFile, "--out", f.flakeDir, "--yes", ...ssh], {
      cwd: f.work,
      env: f.env,
    });
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const flakeBefore = tree(f.flakeDir);
    const bootBefore = await f.target.bootId();
    // no --yes: a dry run erases nothing, so it has nothing to confirm
    const r = await runInProcess(
      ["install", target, "--flake", f.flakeDir, ...ssh, "--dry-run", "--log-dir", join(f.work, "logs")],
      { cwd: f.work, env: f.env },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const heads = r.stdout
      .split("\n")
      .map((l) => /^(?:✔|›|↓) ([a-z-]+): /.exec(l)?.[1])
      .filter(Boolean);
    expect(heads).toEqual(INSTALL_STEPS.map((s) => s.name));
    expect(r.stdout).toContain(
      `    $ ${join(STANDIN_BIN, "nixos-anywhere")} --flake '${f.flakeDir}#node1' -i ${f.key.privatePath} --extra-files '<staged-host-key-dir>' --kexec '<kexec-tarball-checked-here>' `,
    );
    expect(r.stdout).toMatch(/Dry run of the install of .*: nothing was written, asked or changed on the target\./);
    expect(changed(flakeBefore, tree(f.flakeDir))).toEqual([]);
    expect(await f.target.bootId()).toBe(bootBefore);
  });
});
