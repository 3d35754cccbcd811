// `check root@host`: the flake is evaluated by the nix of a NixOS host over the tool's SSH connection
// (here a NixOS-personality target whose nix is the suite's stand-in), and removed from it afterwards.
// A target that is not NixOS is refused (exit 2) with nothing left behind.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";

const NIX = fileURLToPath(new URL("../../targets/standins/installer/nix.mjs", import.meta.url));
const supported = targetsSupported();
let work: string;
let key: KeyPair;
const targets: TestTarget[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "nn-check-remote-"));
  key = await makeKeyPair(work);
}, 60_000);
afterAll(async () => {
  for (const t of targets) await t.stop();
  rmSync(work, { recursive: true, force: true });
});

async function check(t: TestTarget, flake: string) {
  return runCli(
    [
      "check",
      "--flake",
      flake,
      "--json",
      "-i",
      key.privatePath,
      "--host-key",
      await t.hostKeyFingerprint(),
      "--known-hosts",
      join(work, `known_hosts-${t.name}`),
      `root@${t.address}`,
    ],
    { cwd: work, env: { HOME: work, SSH_AUTH_SOCK: "", PATH: "/usr/bin:/bin" } },
  );
}

async function plannedFlake(name: string, edit?: (text: string) => string): Promise<string> {
  const dir = join(work, name);
  const p = await runCli(["plan", "--example", "hetzner-cloud", "--out", dir, "--yes"], { cwd: work });
  expect(p.code, p.stderr).toBe(0);
  if (edit) {
    const own = join(dir, "hosts", "nixnode", "default.nix");
    writeFileSync(own, edit(readFileSync(own, "utf8")));
  }
  return dir;
}

describe.skipIf(!supported.ok)(`check on a host ${supported.ok ? "" : `(skipped: ${supported.reason})`}`, () => {
  it("evaluates on a NixOS host: exit 0 with the .drv path, 3 with Nix's error; the copy is removed", async () => {
    const t = await startTarget({ personality: "nixos", authorizedKeys: [key.publicKey] });
    targets.push(t);
    await t.writeFile("/usr/local/sbin/nix", `#!/bin/sh\nexec ${process.execPath} ${NIX} "$@"\n`, 0o755);
    const good = await check(t, await plannedFlake("good"));
    expect(good.code, good.stdout + good.stderr).toBe(0);
    const result = good.events.find((e) => e.type === "result") as { data: { drvPath: string } };
    expect(result.data.drvPath).toMatch(/-nixos-system-nixnode\.drv$/);
    const bad = await check(
      t,
      await plannedFlake("bad", (s) => s.replace(/^\{\n/m, "{\n  services.openssh.enabel = true;\n")),
    );
    expect(bad.code).toBe(3);
    const err = bad.events.find((e) => e.type === "error") as { data: { details: string[] } };
    expect(err.data.details.join("\n")).toContain("The option `services.openssh.enabel' does not exist");
    // the target evaluated (its nix ran twice) and kept nothing
    expect((await t.exec("cat /root/.nixnode-standin-installer.log")).stdout.match(/^nix eval /gm)).toHaveLength(2);
    expect((await t.exec("ls -d /tmp/nixnode-check.* 2>/dev/null | wc -l")).stdout.trim()).toBe("0");
  });

  it("refuses a host that is not NixOS with exit 2", async () => {
    const t = await startTarget({ authorizedKeys: [key.publicKey] });
    targets.push(t);
    const r = await check(t, await plannedFlake("on-ubuntu"));
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/does not run NixOS with nix/);
  });
});
