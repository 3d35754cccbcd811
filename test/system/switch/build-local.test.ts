// `switch` building on the operator's machine (issue 13): with the operator-side Nix stand-in first
// on PATH (test/targets/standins/operator-nix: a recent Nix whose build makes the toplevel locally
// and whose `nix copy` streams it over the REAL ssh with NIX_SSHOPTS), a plain change is built here,
// copied, activated under the supervisor and confirmed, and the target builds nothing; a copy that
// meets a host key other than the pinned one fails: nothing activated, exit 3.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectSsh } from "../../../src/remote/ssh-target";
import { probeLocalNix } from "../../../src/switch/build-local";
import { decideBuildLocation, type BuildLocation } from "../../../src/switch/build-location";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab, runSwitchOn } from "./fixture";

const supported = targetsSupported();
const STANDIN = fileURLToPath(new URL("../../targets/standins/operator-nix", import.meta.url));

describe.skipIf(!supported.ok)(
  `switch --build-on local${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let lab: Lab;
    let scratch: string;
    let env: NodeJS.ProcessEnv;
    let location: BuildLocation;
    const storeOnTarget = async () => (await lab.t.exec("ls -1 /nix/store")).stdout.split("\n").filter((l) => l.trim());
    const nixLog = () => readFileSync(join(scratch, "operator-nix.log"), "utf8");

    beforeAll(async () => {
      scratch = mkdtempSync(join(tmpdir(), "nn-opnix-"));
      env = {
        ...process.env,
        PATH: `${STANDIN}:${process.env.PATH ?? ""}`,
        NIXNODE_OPERATOR_NIX_STORE: join(scratch, "store"),
        NIXNODE_OPERATOR_NIX_LOG: join(scratch, "operator-nix.log"),
      };
      lab = await lockedDownLab();
      const decided = decideBuildLocation("auto", await probeLocalNix(env), lab.host.system, null);
      if ("error" in decided) throw new Error(decided.error);
      location = decided;
    }, 180_000);
    afterAll(async () => {
      await lab?.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    it("auto chooses this machine when its Nix is recent and builds for the node's system", () => {
      expect(location).toEqual({
        where: "local",
        reason: "this machine has Nix 2.24.9 on x86_64-linux, like the node",
      });
    });

    it("--dry-run says it would build here and why, prints the build and copy commands, changes nothing", async () => {
      const before = await nixosState(lab.t);
      const storeBefore = await storeOnTarget();
      editHost(lab, (h) => (h.timezone = "Europe/Lisbon"));
      const r = await runSwitchOn(lab, { dryRun: true, build: { location, identityFile: lab.key.privatePath, env } });
      expect(r.error?.message).toBeUndefined();
      expect(r.output).toContain("built on this machine, then copied with nix copy (this machine has Nix 2.24.9");
      expect(r.output).toMatch(
        /nix --extra-experimental-features 'nix-command flakes' build --no-link --print-out-paths 'path:.*#nixosConfigurations\..*\.config\.system\.build\.toplevel'   # on this machine/,
      );
      expect(r.output).toMatch(
        /NIX_SSHOPTS='-p 2222 -o StrictHostKeyChecking=yes .*' nix .* copy --substitute-on-destination --to ssh-ng:\/\/root@/,
      );
      expect(r.output).not.toContain("tar -x -C"); // no upload of the flake to the node, no build there
      const after = await nixosState(lab.t);
      expect(after.profileLink).toBe(before.profileLink);
      expect(await storeOnTarget()).toEqual(storeBefore);
      expect(() => nixLog()).toThrow(); // the stand-in never ran a build or a copy
    }, 60_000);

    it("a plain change is built here, copied, activated and confirmed; the target builds nothing", async () => {
      const before = await nixosState(lab.t);
      const storeBefore = await storeOnTarget();
      editHost(lab, (h) => (h.timezone = "Europe/Berlin"));
      const r = await runSwitchOn(lab, { build: { location, identityFile: lab.key.privatePath, env } });
      expect(r.error?.message).toBeUndefined();
      expect(r.output).toContain("built on this machine, then copied with nix copy (this machine has Nix 2.24.9");
      expect(r.output).toContain(`confirmed on port ${NEW_PORT}`);
      expect(r.result?.build?.where).toBe("local"); // also in the --json result
      const after = await nixosState(lab.t);
      expect(after.profileLink).not.toBe(before.profileLink);
      expect(after.current).toBe(after.boot);
      // the running generation is the one this machine built, and it carries the change
      expect((await lab.t.exec(`cat ${after.current}/built-by`)).stdout).toContain("built on the operator's machine");
      expect(JSON.parse((await lab.t.exec(`cat ${after.current}/host.json`)).stdout).timezone).toBe("Europe/Berlin");
      // the only new store path on the target is the copied one: the target's `nix build` never ran
      const added = (await storeOnTarget()).filter((p) => !storeBefore.includes(p));
      expect(added).toEqual([basename(after.current)]);
      // the copy went over ssh with the pinned key only, on the node's port, with the operator's key
      const copyLine = nixLog()
        .split("\n")
        .find((l) => l.startsWith("copy "));
      expect(copyLine).toContain(`-p ${NEW_PORT} -o StrictHostKeyChecking=yes -o UserKnownHostsFile=`);
      expect(copyLine).toContain(`-i ${lab.key.privatePath} -o IdentitiesOnly=yes root@${lab.t.address}`);
    }, 120_000);

    it("the copy meets a host key that is not the pinned one: nothing activated, exit 3 with ssh's words", async () => {
      const before = await nixosState(lab.t);
      const storeBefore = await storeOnTarget();
      editHost(lab, (h) => (h.timezone = "Europe/Paris"));
      // the command's session proved the pinned key; then the node (or someone in the path) answers
      // NEW connections with another key: sshd reloads a freshly generated host key
      const primary = await connectSsh({
        host: lab.t.address,
        port: NEW_PORT,
        identityFiles: [lab.key.privatePath],
        pinnedHostKey: lab.fingerprint,
      });
      try {
        const rot = await lab.t.exec(
          `set -e; cd /etc/ssh; cp ssh_host_ed25519_key pinned.key; rm -f other.key other.key.pub; ` +
            `ssh-keygen -q -t ed25519 -N '' -f other.key; cat other.key > ssh_host_ed25519_key; ` +
            `kill -HUP "$(cat '${lab.t.dir}/sshd.pid')"`,
        );
        expect(rot.code, rot.stderr).toBe(0);
        // wait until sshd answers again, now with the other key
        let seen = "";
        for (let i = 0; i < 50 && !seen.includes("ssh-ed25519"); i++) {
          await new Promise((res) => setTimeout(res, 200));
          seen = (await lab.t.exec(`ssh-keyscan -t ed25519 -p ${NEW_PORT} 127.0.0.1 2>/dev/null || true`)).stdout;
        }
        const other = (await lab.t.exec("cat /etc/ssh/other.key.pub")).stdout.split(/\s+/)[1]!;
        expect(seen).toContain(other);

        const r = await runSwitchOn(lab, { primary, build: { location, identityFile: lab.key.privatePath, env } });
        expect(r.error?.exitCode).toBe(3);
        expect(r.error?.message).toContain("nix copy of the built system to the node failed");
        expect(r.error?.message).toContain("nothing was activated");
        expect((r.error?.details ?? []).join("\n")).toMatch(
          /Host key verification failed|HOST IDENTIFICATION HAS CHANGED/,
        );
        const after = await nixosState(lab.t);
        expect(after.profileLink).toBe(before.profileLink);
        expect(after.current).toBe(before.current);
        expect(await storeOnTarget()).toEqual(storeBefore);
      } finally {
        await primary.close().catch(() => undefined);
        // the pinned key back, for anything after this test
        await lab.t.exec(
          `cd /etc/ssh && cat pinned.key > ssh_host_ed25519_key && kill -HUP "$(cat '${lab.t.dir}/sshd.pid')"`,
        );
      }
      await new Promise((res) => setTimeout(res, 1000));
      expect(
        await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath }),
      ).toMatchObject({
        ok: true,
      });
    }, 120_000);
  },
);
