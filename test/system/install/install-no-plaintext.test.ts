// After a full install, the node's private host key exists in plaintext nowhere on the operator's
// side: not in the run log, not in the flake (only secrets/host-key.age), not in the temp folder it
// was staged in for --extra-files, and never in the argv nixos-anywhere was started with.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets/index";
import { STANDIN_BIN, installFixture, type InstallFixture } from "./install-fixture";

const supported = targetsSupported();
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

function filesUnder(dir: string, skip: (p: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) out.push(...filesUnder(p, skip));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe.skipIf(!supported.ok)(
  `no plaintext host key outlives an install ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it("log, flake, temp folder and nixos-anywhere's argv hold no private key", async () => {
      f = await installFixture();
      // a recording wrapper in front of the stand-in: what argv did nixos-anywhere really get?
      const wrap = join(f.work, "wrap-bin");
      const argvLog = join(f.work, "nixos-anywhere.argv");
      mkdirSync(wrap);
      writeFileSync(
        join(wrap, "nixos-anywhere"),
        `#!/bin/sh\nprintf '%s\\n' "$@" >> '${argvLog}'\nexec '${join(STANDIN_BIN, "nixos-anywhere")}' "$@"\n`,
      );
      chmodSync(join(wrap, "nixos-anywhere"), 0o755);
      const tmp = join(f.work, "tmp");
      mkdirSync(tmp);
      const r = await f.install([], { child: true, env: { PATH: `${wrap}:${f.env.PATH}`, TMPDIR: tmp } });
      expect(r.code, r.stdout + r.stderr).toBe(0);

      // the real private key, from the only place it may be: encrypted in the flake, to the operator
      const privateKey = execFileSync(
        "age",
        ["-d", "-i", f.key.privatePath, join(f.flakeDir, "secrets", "host-key.age")],
        { encoding: "utf8" },
      );
      expect(privateKey).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
      const body = privateKey
        .split("\n")
        .filter((l) => l && !l.startsWith("-----"))
        .join("");
      const needles = [body.slice(0, 40), body.slice(-40), "PRIVATE KEY-----"];

      const argv = readFileSync(argvLog, "utf8");
      expect(argv).toContain("--extra-files");
      const places = [
        ...filesUnder(join(f.work, "logs")),
        ...filesUnder(f.flakeDir, (p) => p.endsWith("/.git") || p.endsWith("host-key.age")),
        ...filesUnder(tmp),
      ];
      expect(places.length).toBeGreaterThan(5);
      for (const p of places) {
        const text = readFileSync(p, "utf8");
        for (const n of needles) expect(text.includes(n), `${p} holds private key material`).toBe(false);
      }
      for (const n of needles) expect(argv.includes(n)).toBe(false);
      // the 0700 staging folder for --extra-files is gone with the run
      expect(
        readdirSync(tmp).filter((d) => statSync(join(tmp, d)).isDirectory() && d.startsWith("nixnode-extra-files-")),
      ).toEqual([]);
    });
  },
);
