// `--phases disko,install,reboot` on a target that runs its own OS (not the NixOS installer) would
// run disko on the disks of that running system: both engines refuse it right after the detect probe
// (exit 2 naming --phases, with the fix), before any flake is written or anything else reaches the
// target. The nixos-anywhere stand-in, like 1.13, would otherwise go ahead (it never checks).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets/index";
import { installFixture, type InstallFixture } from "./install-fixture";

const supported = targetsSupported();
const EFFECTS = fileURLToPath(new URL("../../targets/standins/lib/target-effects.mjs", import.meta.url));
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

describe.skipIf(!supported.ok)(
  `install refuses disko on a running system ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it.each(["nixos-anywhere", "builtin"] as const)(
      "--phases disko,install,reboot on Ubuntu with the %s engine: exit 2, nothing sent beyond the probe",
      async (engine) => {
        f = await installFixture({ engine });
        const standinLog = join(f.work, "standin.log");
        const before = {
          bootId: await f.target.bootId(),
          hostKey: await f.target.hostKeyFingerprint(),
          os: (await f.target.exec("cat /etc/os-release")).stdout,
        };
        const loginsBefore = ((await f.target.sshdLog()).match(/Accepted publickey/g) ?? []).length;
        const r = await f.install(["--phases", "disko,install,reboot"], { env: { NIXNODE_STANDIN_LOG: standinLog } });

        expect(r.code, r.stdout + r.stderr).toBe(2);
        const err = r.events.find((e) => e.type === "error") as { message: string; field: string; hint: string };
        expect(err.field).toBe("--phases");
        expect(err.message).toMatch(/--phases disko,install,reboot/);
        expect(err.message).toMatch(/not the NixOS installer/);
        expect(err.message).toMatch(/wipe the disks of that running system/);
        expect(err.hint).toMatch(/include kexec/);
        expect(err.hint).toMatch(/boot the NixOS installer/);
        // the target is as it was: same boot, key and OS; nothing partitioned, staged or downloaded
        expect(await f.target.bootId()).toBe(before.bootId);
        expect(await f.target.hostKeyFingerprint()).toBe(before.hostKey);
        expect((await f.target.exec("cat /etc/os-release")).stdout).toBe(before.os);
        expect(existsSync(join(f.target.dir, "standin-disko.done"))).toBe(false);
        expect(existsSync(join(f.target.dir, "standin-mnt"))).toBe(false);
        expect(existsSync(standinLog)).toBe(false);
        if (f.downloadsLog) expect(existsSync(f.downloadsLog) ? f.downloadsLog : "").toBe("");
        // one login (the detect probe), and no flake written locally
        const logins = ((await f.target.sshdLog()).match(/Accepted publickey/g) ?? []).length;
        expect(logins - loginsBefore).toBe(1);
        expect(existsSync(f.flakeDir)).toBe(false);
      },
    );

    it("--phases disko,install,reboot still runs on a target that is already the NixOS installer", async () => {
      f = await installFixture();
      // the target already switched into the installer (the stand-in's kexec effect, applied directly)
      execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { becomeInstaller, findTarget } from ${JSON.stringify(EFFECTS)};
           becomeInstaller(findTarget(${JSON.stringify(f.target.address)}, 22));`,
        ],
        { env: { ...process.env, NIXNODE_STANDIN_TARGETS: f.target.dir } },
      );
      const r = await f.install(["--phases", "disko,install,reboot"]);
      // the phases ran (verification after them is the subject of install-nixos-anywhere.test.ts)
      const errors = r.events.filter((e) => e.type === "error") as Array<{ field?: string }>;
      expect(errors.filter((e) => e.field === "--phases")).toEqual([]);
      const done = r.events
        .filter((e) => e.type === "step" && e.status === "done")
        .map((e) => e.phase as string)
        .filter((p) => ["kexec", "disko", "install", "reboot"].includes(p));
      expect(done).toEqual(["disko", "install", "reboot"]);
      expect(readFileSync(join(f.target.dir, "standin-disko.done"), "utf8")).not.toMatch(/RUNNING SYSTEM/);
    });
  },
);
