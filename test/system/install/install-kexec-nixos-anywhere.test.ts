// The nixos-anywhere engine boots the planned release's kexec image, checked on the operator's
// machine: the tool downloads it from the (stand-in) GitHub release, checks the published SHA-256 and
// passes the LOCAL file to --kexec, so what nixos-anywhere uploads is what was checked. A wrong digest,
// or a flake the operator's Nix cannot evaluate, stops before nixos-anywhere starts.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findRelease } from "../../../src/plan/releases";
import { targetsSupported } from "../../targets/index";
import { STANDIN_BIN, installFixture, type InstallFixture } from "./install-fixture";
import { runInProcess } from "./run-in-process";

const supported = targetsSupported();
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

/** A wrapper in front of the stand-in: its argv, and the SHA-256 of the --kexec file when it was started. */
function recordNixosAnywhere(fx: InstallFixture): { env: Record<string, string>; argvLog: string } {
  const wrap = join(fx.work, "wrap-bin");
  const argvLog = join(fx.work, "nixos-anywhere.argv");
  mkdirSync(wrap, { recursive: true });
  writeFileSync(
    join(wrap, "nixos-anywhere"),
    `#!/bin/sh
printf '%s\\n' "$@" >> '${argvLog}'
prev=""
for a in "$@"; do [ "$prev" = --kexec ] && sha256sum "$a" | sed 's/^/kexec-sha256 /' >> '${argvLog}'; prev="$a"; done
exec '${join(STANDIN_BIN, "nixos-anywhere")}' "$@"
`,
  );
  chmodSync(join(wrap, "nixos-anywhere"), 0o755);
  return { env: { PATH: `${wrap}:${fx.env.PATH}` }, argvLog };
}

describe.skipIf(!supported.ok)(
  `nixos-anywhere boots a checked kexec image ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it("passes --kexec with the local file whose SHA-256 the release publishes, and evaluates locally first", async () => {
      f = await installFixture();
      const rec = recordNixosAnywhere(f);
      const r = await f.install([], { env: rec.env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const argv = readFileSync(rec.argvLog, "utf8").split("\n");
      const file = argv[argv.indexOf("--kexec") + 1]!;
      expect(file).toMatch(/nixos-kexec-installer-noninteractive-x86_64-linux\.tar\.gz$/);
      const served = createHash("sha256")
        .update(readFileSync(join(f.work, "kexec-installer.tar.gz")))
        .digest("hex");
      expect(f.kexecMirror.sha256).toBe(served);
      expect(argv).toContainEqual(expect.stringMatching(new RegExp(`^kexec-sha256 ${served} `)));
      // the planned release's asset, and the file is gone after the run
      const host = JSON.parse(readFileSync(join(f.flakeDir, "hosts", "node1", "host.json"), "utf8"));
      const tag = findRelease(host.stateVersion)!.kexecTag;
      expect(f.kexecMirror.requests).toEqual([
        `/repos/nix-community/nixos-images/releases/tags/${tag}`,
        `/nix-community/nixos-images/releases/download/${tag}/nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz`,
      ]);
      expect(existsSync(file)).toBe(false);
      // the operator's (stand-in) nix evaluated the system before nixos-anywhere started
      expect(readFileSync(f.env.NIXNODE_STANDIN_NIX_LOG!, "utf8")).toMatch(
        /^nix eval .*#nixosConfigurations\."node1"/m,
      );
    });

    it("a wrong digest stops before nixos-anywhere starts: the target is untouched", async () => {
      f = await installFixture();
      f.kexecMirror.setDigest("wrong");
      const rec = recordNixosAnywhere(f);
      const bootBefore = await f.target.bootId();
      const r = await f.install([], { env: rec.env });
      expect(r.code).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string };
      expect(err.message).toMatch(/SHA-256 does not match: nothing was changed on the target/);
      expect(existsSync(rec.argvLog)).toBe(false);
      expect(await f.target.bootId()).toBe(bootBefore);
      expect((await f.target.exec("cat /etc/os-release")).stdout).toMatch(/^ID=ubuntu$/m);
    });

    it("a misspelt option found by the local nix stops before nixos-anywhere starts", async () => {
      f = await installFixture();
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
      const rec = recordNixosAnywhere(f);
      const bootBefore = await f.target.bootId();
      const r = await f.install(["--flake", f.flakeDir], { env: rec.env });
      expect(r.code).toBe(3);
      const err = r.events.find((e) => e.type === "error") as { message: string; data: { details: string[] } };
      expect(err.message).toMatch(/does not evaluate .*nothing was changed on the target/);
      expect(err.data.details.join("\n")).toContain("The option `services.openssh.enabel' does not exist");
      expect(existsSync(rec.argvLog)).toBe(false);
      expect(f.kexecMirror.requests).toEqual([]);
      expect(await f.target.bootId()).toBe(bootBefore);
    });
  },
);
