// `lockdown --local` at the console of an installed NixOS: the built CLI runs INSIDE a NixOS-personality
// target (test/targets/enter.sh) with the flake where install --local leaves it (/etc/nixos). The
// verdict comes from outside, with plain ssh2 logins: the key works on the new port, 22 is closed,
// passwords are refused. Bad input changes nothing: host.json's bytes, the generation, password login.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { BIN } from "../../helpers/cli";
import { targetsSupported } from "../../targets";
import { failUnitsInNextBuild, nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, startLab, type Lab } from "../lockdown/fixture";
import { offeredMethods, tryLogin } from "../lockdown/login";

const run = promisify(execFile);
const ENTER = fileURLToPath(new URL("../../targets/enter.sh", import.meta.url));
const supported = targetsSupported();

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

/** The lab's flake copied to the target's /etc/nixos, as install --local leaves it. */
async function installedNode(): Promise<Lab> {
  const l = await startLab();
  await run(ENTER, [l.t.dir, "cp", "-a", l.flake, "/etc/nixos"]);
  return l;
}

async function atConsole(l: Lab, args: string[]) {
  try {
    const r = await run(ENTER, [l.t.dir, "env", "NO_COLOR=1", process.execPath, BIN, ...args], {
      maxBuffer: 16 << 20,
      timeout: 90_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const inTarget = async (l: Lab, path: string) => (await run(ENTER, [l.t.dir, "cat", path])).stdout;
const hostJson = (l: Lab) => `/etc/nixos/hosts/${l.t.name}/host.json`;

describe.skipIf(!supported.ok)(
  `lockdown --local at the console ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it("--port 2222 --yes: key-only SSH on 2222, 22 closed, passwords refused; the flake and the known_hosts line say so", async () => {
      lab = await installedNode();
      const { t, key } = lab;
      // before: password login on 22 works (as after an install)
      expect(await tryLogin({ host: t.address, port: 22, password: t.rootPassword })).toMatchObject({ ok: true });
      const r = await atConsole(lab, ["lockdown", "--local", "--port", String(NEW_PORT), "--yes", "--json"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const events = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; message?: string; data?: Record<string, any> });
      expect(events.map((e) => e.message ?? "").join("\n")).toMatch(/no lockout risk/);
      const result = events.find((e) => e.type === "result")!;
      expect(result.data!.summary).toContain(
        `now answers SSH on port ${NEW_PORT} only, with keys only; port 22 is closed`,
      );

      expect(await offeredMethods(t.address, NEW_PORT)).toEqual(["publickey"]);
      expect(await tryLogin({ host: t.address, port: NEW_PORT, privateKeyPath: key.privatePath })).toMatchObject({
        ok: true,
      });
      expect(await tryLogin({ host: t.address, port: NEW_PORT, password: t.rootPassword })).toMatchObject({
        ok: false,
      });
      expect(
        await tryLogin({ host: t.address, port: 22, privateKeyPath: key.privatePath, timeoutMs: 3000 }),
      ).toMatchObject({ ok: false });

      // the flake on the node describes what runs: the lockdown's final stage, and lockdown.nix
      const host = JSON.parse(await inTarget(lab, hostJson(lab)));
      expect(host.ssh.ports).toEqual([NEW_PORT]);
      expect(host.ssh.passwordAuthentication).toBe(false);
      expect(host.lockdown).toEqual({ stage: "final", port: NEW_PORT });
      expect(host.firewall.allowedTCPPorts).not.toContain(22);
      expect(await inTarget(lab, `/etc/nixos/hosts/${t.name}/lockdown.nix`)).toMatch(/mkForce/);
      // a new generation is the boot default and the running system
      const s = await nixosState(t);
      expect(s.profileLink).toBe("system-2-link");
      expect(s.current).toBe(s.boot);
      expect(result.data!.generation).toBe(2);
      // the known_hosts line works as given: an ssh client pinned to it alone gets in on the new port
      const line: string = result.data!.knownHostsLine;
      expect(line).toBe(
        `[${t.address}]:${NEW_PORT} ${(await inTarget(lab, "/etc/ssh/ssh_host_ed25519_key.pub")).trim().split(/\s+/).slice(0, 2).join(" ")}`,
      );
      const kh = `${lab.work}/known_hosts`;
      await run("sh", ["-c", 'printf "%s\\n" "$1" > "$2"', "sh", line, kh]);
      const ssh = await run("ssh", [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${kh}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-i",
        key.privatePath,
        "-p",
        String(NEW_PORT),
        `root@${t.address}`,
        "echo pinned-ok",
      ]);
      expect(ssh.stdout.trim()).toBe("pinned-ok");
    });

    it("a switch that fails (sshd rejects the new configuration) is rolled back: the old system runs again, the flake is as before, exit 3", async () => {
      lab = await installedNode();
      const { t } = lab;
      const before = await inTarget(lab, hostJson(lab));
      const old = await nixosState(t);
      await failUnitsInNextBuild(t, ["sshd"]);
      const r = await atConsole(lab, ["lockdown", "--local", "--port", String(NEW_PORT), "--yes", "--json"]);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      const err = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((e) => e.type === "error");
      expect(err.message).toMatch(
        /activating the locked-down system failed; the previous configuration is active again and the flake is as before/,
      );
      expect(await inTarget(lab, hostJson(lab))).toBe(before);
      expect(
        (
          await run(ENTER, [
            t.dir,
            "sh",
            "-c",
            `test -e /etc/nixos/hosts/${t.name}/lockdown.nix && echo present || echo absent`,
          ])
        ).stdout.trim(),
      ).toBe("absent");
      const now = await nixosState(t);
      expect(now.current).toBe(old.current);
      expect(now.boot).toBe(old.boot);
      expect(await tryLogin({ host: t.address, port: 22, password: t.rootPassword })).toMatchObject({ ok: true });
    });

    it.each([
      ["--port 22", ["--port", "22"], "--port"],
      ["--port 833w", ["--port", "833w"], "--port"],
      ["a target named too", ["root@192.0.2.1", "--port", "2222"], "--local"],
      ["--confirm-timeout (SSH only)", ["--port", "2222", "--confirm-timeout", "30"], "--confirm-timeout"],
    ])("bad input (%s): exit 2 naming it, nothing changed", async (_name, extra, flag) => {
      lab = await installedNode();
      const { t } = lab;
      const before = await inTarget(lab, hostJson(lab));
      const r = await atConsole(lab, ["lockdown", "--local", ...extra, "--yes", "--json"]);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      const err = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((e) => e.type === "error");
      expect(`${err.field} ${err.message}`).toContain(flag);
      expect(err.hint).toBeTruthy();
      expect(await inTarget(lab, hostJson(lab))).toBe(before);
      expect((await nixosState(t)).profileLink).toBe("system-1-link");
      expect(await tryLogin({ host: t.address, port: 22, password: t.rootPassword })).toMatchObject({ ok: true });
    });
  },
);
