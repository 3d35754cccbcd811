// Engine 2 (no Nix on the operator's machine): the tool downloads the kexec installer of the planned
// release ON the target (its curl, from the suite's mirror on the target's veth: no network) and checks
// its SHA-256 there against the digest the (stand-in) releases API publishes, waits for the installer
// with the same host key, uploads the flake, evaluates the system, runs disko and nixos-install there,
// copies the host key, reboots, and verifies with the pinned key. A wrong digest or a flake that does
// not evaluate stops with the disks untouched.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { findRelease } from "../../../src/plan/releases";
import { targetsSupported } from "../../targets/index";
import { installFixture, strictSshArgs, type InstallFixture } from "./install-fixture";
import { runInProcess } from "./run-in-process";

const run = promisify(execFile);
const supported = targetsSupported();
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

describe.skipIf(!supported.ok)(
  `install with the built-in engine ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it("installs without local Nix: kexec tarball fetched on the target, pinned key after reboot", async () => {
      // the disk is a real loop device: the control for the tests below that find it unchanged
      f = await installFixture({ engine: "builtin", loopDisk: true });
      const downloadsLog = f.downloadsLog!;
      const bootBefore = await f.target.bootId();
      const r = await f.install(["--copy-flake-to-etc"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const pinned = (r.events.find((e) => e.type === "result") as { data: { hostKeyFingerprint: string } }).data
        .hostKeyFingerprint;
      // the target fetched the x86_64 installer of the planned release itself, and checked its digest
      const host0 = JSON.parse(readFileSync(join(f.flakeDir, "hosts", "node1", "host.json"), "utf8"));
      const tag = findRelease(host0.stateVersion)!.kexecTag;
      expect(readFileSync(downloadsLog, "utf8").trim().split("\n")).toEqual([
        `${f.env.NIXNODE_KEXEC_DOWNLOAD_BASE}/nix-community/nixos-images/releases/download/${tag}/nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz`,
      ]);
      expect(f.kexecMirror.requests).toContain(`/repos/nix-community/nixos-images/releases/tags/${tag}`);
      expect(r.events.filter((e) => e.type === "warn").map((e) => String(e.message))).not.toContainEqual(
        expect.stringMatching(/UNVERIFIED/),
      );
      const log = readFileSync(join(f.work, "logs", readdirSync(join(f.work, "logs"))[0]!), "utf8");
      expect(log).toContain(`nixnode-kexec: sha256 ok ${f.kexecMirror.sha256}`);
      // the installer ran eval, the disko script build, disko, nixos-install, in that order
      expect(installerLog(f)).toEqual(["nix eval", "nix disko-script", "disko", "nixos-install"]);
      expect(readFileSync(f.diskImage!).subarray(0, 64).toString("latin1")).toMatch(
        /^nixnode stand-in: formatted by disko\n/,
      );
      expect(await f.target.hostKeyFingerprint()).toBe(pinned);
      expect(await f.target.bootId()).not.toBe(bootBefore);
      const host = JSON.parse(readFileSync(join(f.flakeDir, "hosts", "node1", "host.json"), "utf8"));
      const login = await run("ssh", strictSshArgs(f, "cat /etc/os-release; hostname; cat /root/.ssh/authorized_keys"));
      expect(login.stdout).toMatch(/^ID=nixos$/m);
      expect(login.stdout).not.toMatch(/VARIANT_ID=installer/);
      expect(login.stdout).toMatch(/^node1$/m);
      expect(login.stdout.split("\n").filter((l) => l.startsWith("ssh-"))).toEqual(host.ssh.authorizedKeys);
      // --copy-flake-to-etc: the machine holds its own flake
      expect((await f.target.exec("cat /etc/nixos/hosts/node1/host.json")).stdout).toBe(
        readFileSync(join(f.flakeDir, "hosts", "node1", "host.json"), "utf8"),
      );
      const done = r.events.filter((e) => e.type === "step" && e.status === "done").map((e) => e.phase);
      expect(done).toEqual(["connect", "detect", "kexec", "disko", "install", "reboot", "verify"]);
    }, 300_000);

    it("a failed download on the target stops before kexec, with diagnostics from the fallback session", async () => {
      f = await installFixture({ engine: "builtin" });
      writeFileSync(join(f.target.dir, "standin-fault"), "download-fails\n");
      const bootBefore = await f.target.bootId();
      const r = await f.install();
      expect(r.code).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string; data: { details: string[] } };
      expect(err.message).toMatch(/starting the kexec installer failed on the target/);
      const details = err.data.details.join("\n");
      expect(details).toMatch(/nixnode-kexec: download failed: http:\/\/[0-9.:]+\/nix-community\/nixos-images/);
      expect(details).toMatch(/Diagnostics from the fallback session/);
      expect(details).toMatch(/disks are untouched/);
      expect(await f.target.bootId()).toBe(bootBefore);
      expect(await f.target.hostKeyFingerprint()).toBe(f.originalFingerprint);
    });

    it("a kexec image with the wrong SHA-256 is refused on the target: no kexec, disks untouched", async () => {
      f = await installFixture({ engine: "builtin" });
      f.kexecMirror.setDigest("wrong");
      const bootBefore = await f.target.bootId();
      const disk = diskHash(f);
      const r = await f.install();
      expect(r.code).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string; data: { details: string[] } };
      expect(err.message).toMatch(/does not have the expected SHA-256: nothing was changed on the target/);
      expect(err.data.details.join("\n")).toMatch(/SHA-256 mismatch: expected [0-9a-f]{64}, downloaded [0-9a-f]{64}/);
      // nothing booted, nothing unpacked, the disk is as it was
      await new Promise((res) => setTimeout(res, 2000));
      expect(await f.target.bootId()).toBe(bootBefore);
      expect((await f.target.exec("cat /etc/os-release")).stdout).toMatch(/^ID=ubuntu$/m);
      expect((await f.target.exec("ls /root/kexec 2>&1 || true")).stdout).toMatch(/No such file/);
      expect(diskHash(f)).toBe(disk);
      expect(await f.target.hostKeyFingerprint()).toBe(f.originalFingerprint);
    });

    it("without a published digest the image is installed but reported UNVERIFIED (text and --json warning)", async () => {
      f = await installFixture({ engine: "builtin" });
      f.kexecMirror.setDigest("missing");
      const r = await f.install();
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const warnings = r.events.filter((e) => e.type === "warn").map((e) => String(e.message));
      expect(warnings).toContainEqual(
        expect.stringMatching(/kexec image .* is UNVERIFIED: .*publishes no SHA-256 digest/),
      );
    }, 300_000);

    it("a misspelt option stops before the disks: Nix's error, the target back on Ubuntu with its host key, the loop-device disk byte for byte unchanged", async () => {
      f = await installFixture({ engine: "builtin", loopDisk: true });
      expect(f.diskImage).toMatch(/^\/dev\/loop\d+$/);
      // plan the flake from the live target first, then break it the way an operator's edit would
      const plan = await runInProcess(
        [
          "plan",
          `root@${f.target.address}`,
          "--config",
          f.configFile,
          "--out",
          f.flakeDir,
          "--yes",
          "--json",
          "-i",
          f.key.privatePath,
          "--host-key",
          f.originalFingerprint,
          "--known-hosts",
          f.knownHosts,
        ],
        { cwd: f.work, env: f.env },
      );
      expect(plan.code, plan.stdout + plan.stderr).toBe(0);
      const own = join(f.flakeDir, "hosts", "node1", "default.nix");
      writeFileSync(own, readFileSync(own, "utf8").replace(/^\{\n/m, "{\n  services.openssh.enabel = true;\n"));
      expect(readFileSync(own, "utf8")).toContain("services.openssh.enabel = true;");
      const disk = diskHash(f);
      const bootBefore = await f.target.bootId();
      const r = await f.install(["--flake", f.flakeDir]);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string; data: { details: string[] } };
      expect(err.message).toMatch(/does not evaluate, so nothing was installed and the disks were not touched/);
      const details = err.data.details.join("\n");
      expect(details).toContain("The option `services.openssh.enabel' does not exist");
      expect(details).toMatch(/source\/hosts\/node1\/default\.nix/);
      // the installer evaluated and did nothing else
      expect(installerLog(f)).toEqual(["nix eval"]);
      // the installer ran in RAM: the reboot brings the old system back, with its own host key
      const back = await waitFor(
        async () => {
          const os = await f!.target.exec("cat /etc/os-release").catch(() => ({ stdout: "" }));
          return /^ID=ubuntu$/m.test(os.stdout) && (await f!.target.bootId()) !== bootBefore;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(back).toBe(true);
      await waitFor(async () => (await f!.target.hostKeyFingerprint().catch(() => "")) !== "", { timeoutMs: 30_000 });
      expect(await f.target.hostKeyFingerprint()).toBe(f.originalFingerprint);
      expect(diskHash(f)).toBe(disk);
      expect(existsSync(join(f.target.dir, "standin-mnt", ".nixnode-disko-done"))).toBe(false);
    }, 300_000);
  },
);

function diskHash(f: InstallFixture): string {
  return createHash("sha256").update(readFileSync(f.diskImage!)).digest("hex");
}

/** What the stand-in installer ran, in order (its nix and nixos-install log into the target's /root). */
function installerLog(f: InstallFixture): string[] {
  const p = join(f.target.dir, "root", ".nixnode-standin-installer.log");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .trim()
    .split("\n")
    .map((l) =>
      l
        .split(" ")
        .slice(0, l.startsWith("nix ") ? 2 : 1)
        .join(" "),
    );
}

async function waitFor(pred: () => Promise<boolean>, o: { timeoutMs: number; intervalMs?: number }): Promise<boolean> {
  const end = Date.now() + o.timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 250));
  }
  return false;
}
