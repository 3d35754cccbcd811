// Engine 2 (no Nix on the operator's machine): the tool downloads the kexec installer ON the target
// (curl there, served by the ubuntu-vps+kexec stand-ins: no network), waits for the installer with
// the same host key, uploads the flake, runs disko and nixos-install there, copies the host key,
// reboots, and verifies with the pinned key.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets/index";
import { installFixture, strictSshArgs, type InstallFixture } from "./install-fixture";

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
      f = await installFixture({ engine: "builtin" });
      const downloadsLog = f.downloadsLog!;
      const bootBefore = await f.target.bootId();
      const r = await f.install(["--copy-flake-to-etc"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const pinned = (r.events.find((e) => e.type === "result") as { data: { hostKeyFingerprint: string } }).data
        .hostKeyFingerprint;
      // the target fetched the x86_64 installer of the planned release itself
      expect(readFileSync(downloadsLog, "utf8").trim().split("\n")).toEqual([
        "https://github.com/nix-community/nixos-images/releases/download/nixos-25.11/nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz",
      ]);
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
      expect(done).toEqual(["kexec", "disko", "install", "reboot", "verify"]);
    });

    it("a failed download on the target stops before kexec, with diagnostics from the fallback session", async () => {
      f = await installFixture({ engine: "builtin" });
      writeFileSync(join(f.target.dir, "standin-fault"), "download-fails\n");
      const bootBefore = await f.target.bootId();
      const r = await f.install();
      expect(r.code).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string; data: { details: string[] } };
      expect(err.message).toMatch(/starting the kexec installer failed on the target/);
      const details = err.data.details.join("\n");
      expect(details).toMatch(/nixnode-kexec: download failed: https:\/\/github\.com\/nix-community\/nixos-images/);
      expect(details).toMatch(/Diagnostics from the fallback session/);
      expect(details).toMatch(/disks are untouched/);
      expect(await f.target.bootId()).toBe(bootBefore);
      expect(await f.target.hostKeyFingerprint()).toBe(f.originalFingerprint);
    });
  },
);
