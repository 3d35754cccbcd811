// Targets the install must refuse BEFORE anything is touched: too little RAM for kexec, a container,
// Secure Boot on, and an operator whose key would not be authorised (nixos-anywhere #294). After each:
// exit 2 naming the reason, the target's boot_id, host key and OS unchanged, no flake written.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeKeyPair } from "../../helpers/ssh-keys";
import { targetsSupported, type TestTarget } from "../../targets/index";
import { installFixture, type InstallFixture } from "./install-fixture";

const supported = targetsSupported();
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

async function snapshot(t: TestTarget) {
  return {
    bootId: await t.bootId(),
    hostKey: await t.hostKeyFingerprint(),
    os: (await t.exec("cat /etc/os-release")).stdout,
  };
}

async function expectUntouched(fx: InstallFixture, before: Awaited<ReturnType<typeof snapshot>>) {
  expect(await snapshot(fx.target)).toEqual(before);
  expect(existsSync(join(fx.target.dir, "standin-mnt"))).toBe(false);
  expect(existsSync(fx.flakeDir)).toBe(false);
}

const SECURE_BOOT_ON =
  'mkdir -p "$D/fw/efi/efivars" && printf \'\\006\\000\\000\\000\\001\' > "$D/fw/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c" && mount --bind "$D/fw" /sys/firmware';

describe.skipIf(!supported.ok)(
  `install refuses before touching the target ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it.each([
      ["512 MiB of RAM", { memoryMiB: 512 }, null, /memory|\bRAM\b/i],
      ["an LXC container", { virt: "lxc" }, null, /container/i],
      ["Secure Boot on", {}, SECURE_BOOT_ON, /secure boot/i],
    ] as const)("%s", async (_name, targetOpts, setup, reason) => {
      f = await installFixture({ target: targetOpts });
      if (setup) {
        const r = await f.target.exec(setup.replace(/\$D/g, f.target.dir));
        expect(r.code, r.stderr).toBe(0);
      }
      const before = await snapshot(f.target);
      const r = await f.install();
      expect(r.code).toBe(2);
      const err = r.events.find((e) => e.type === "error") as { message: string; hint?: string };
      expect(`${err.message} ${err.hint}`).toMatch(reason);
      await expectUntouched(f, before);
    });

    it("refuses when none of the operator's keys would be authorised on the new system", async () => {
      const other = await makeKeyPair((await import("node:os")).tmpdir(), { comment: "someone-else" });
      f = await installFixture({ config: { ssh: { authorizedKeys: [other.publicKey] } } });
      const before = await snapshot(f.target);
      const r = await f.install();
      expect(r.code).toBe(2);
      const err = r.events.find((e) => e.type === "error") as { message: string; field: string };
      expect(err.field).toBe("ssh.authorizedKeys");
      expect(err.message).toMatch(/locked out/);
      await expectUntouched(f, before);
    });
  },
);
