// Contract: inside the installer the built-in engine evaluates the whole system, then builds the disko
// script, and only then runs disko and nixos-install; an evaluation error stops before any of the
// disk-touching commands, reboots the installer (RAM) back into the old system and exits 3.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OperationError } from "../../../src/errors";
import type { Facts } from "../../../src/facts/types";
import { runBuiltinEngine, type BuiltinEngineInput } from "../../../src/install/engine-builtin";
import type { InstallPhase } from "../../../src/install/phases";
import type { InstallSession } from "../../../src/install/types";
import { memoryLog } from "../../../src/ui/log";

const work = mkdtempSync(join(tmpdir(), "nn-builtin-order-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const NIX_ERROR = `error:
       … while evaluating the attribute 'config.system.build.toplevel.drvPath'

       error: The option \`services.openssh.enabel' does not exist. Definition values:
       - In \`/nix/store/abc-source/hosts/node1/default.nix': true`;

/** A target session that answers like the installer and records every command it is sent. */
function installerSession(o: { evalFails?: boolean }) {
  const commands: string[] = [];
  const session: InstallSession = {
    async run(cmd) {
      commands.push(cmd);
      if (/\bnix\b.* eval --raw /.test(cmd))
        return o.evalFails
          ? { code: 1, stdout: "", stderr: NIX_ERROR }
          : { code: 0, stdout: "/nix/store/abc-nixos-system-node1.drv", stderr: "" };
      if (/\bnix\b.* build .*diskoScript/.test(cmd))
        return { code: 0, stdout: "/nix/store/def-disko-node1\n", stderr: "" };
      return { code: 0, stdout: "", stderr: "" };
    },
    async upload() {},
    async close() {},
  };
  return { session, commands };
}

function input(session: InstallSession, phases: InstallPhase[], entered: InstallPhase[]): BuiltinEngineInput {
  const flakeDir = join(work, "flake");
  mkdirSync(join(flakeDir, "hosts", "node1"), { recursive: true });
  writeFileSync(join(flakeDir, "flake.nix"), "{ }\n");
  const ssh = join(work, "extra", "etc", "ssh");
  mkdirSync(ssh, { recursive: true });
  writeFileSync(join(ssh, "ssh_host_ed25519_key"), "key\n");
  writeFileSync(join(ssh, "ssh_host_ed25519_key.pub"), "ssh-ed25519 AAAA\n");
  return {
    session,
    inInstaller: true,
    connectInstaller: async () => session,
    destination: { user: "root", host: "192.0.2.1", port: 22 },
    flakeDir,
    hostName: "node1",
    facts: { arch: "x86_64" } as Facts,
    release: "26.05",
    extraFilesDir: join(work, "extra"),
    phases,
    currentHostKey: "SHA256:x",
    log: memoryLog(),
    signal: new AbortController().signal,
    onPhase: (p) => entered.push(p),
    onStep: () => undefined,
    beforeKexec: async () => undefined,
    probeHostKey: async () => ({ kind: "refused" }) as never,
  };
}

const index = (commands: string[], re: RegExp) => commands.findIndex((c) => re.test(c));

describe("the built-in engine in the installer", () => {
  it("runs eval -> disko script build -> disko -> nixos-install, in that order", async () => {
    const { session, commands } = installerSession({});
    const entered: InstallPhase[] = [];
    await runBuiltinEngine(input(session, ["disko", "install", "reboot"], entered));
    const order = [
      index(commands, /nix.* eval --raw .*config\.system\.build\.toplevel\.drvPath/),
      index(commands, /nix.* build .*config\.system\.build\.diskoScript/),
      index(commands, /^\/nix\/store\/def-disko-node1$/),
      index(commands, /^nixos-install /),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(entered).toEqual(["disko", "install", "reboot"]);
  });

  it("an evaluation error stops before the disks: Nix's error, a reboot back, exit 3", async () => {
    const { session, commands } = installerSession({ evalFails: true });
    const entered: InstallPhase[] = [];
    const err = await runBuiltinEngine(input(session, ["disko", "install", "reboot"], entered)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OperationError);
    const e = err as OperationError;
    expect(e.exitCode).toBe(3);
    expect(e.message).toMatch(/disks were not touched/);
    const details = e.details.join("\n");
    expect(details).toContain("The option `services.openssh.enabel' does not exist");
    expect(details).toContain("hosts/node1/default.nix");
    expect(details).toMatch(/rebooting .* back into its previous system/);
    expect(index(commands, /diskoScript/)).toBe(-1);
    expect(index(commands, /disko-node1|nixos-install/)).toBe(-1);
    expect(commands.at(-1)).toMatch(/reboot/);
    expect(entered).toEqual([]);
  });

  it("resuming after disko, an evaluation error leaves the installer up (the old system is gone)", async () => {
    const { session, commands } = installerSession({ evalFails: true });
    const err = await runBuiltinEngine(input(session, ["install", "reboot"], [])).catch((e: unknown) => e);
    expect((err as OperationError).exitCode).toBe(3);
    expect(index(commands, /reboot/)).toBe(-1);
    expect(index(commands, /nixos-install/)).toBe(-1);
  });
});
