// The `lockdown` command as users run it (the built bundle in a child process): killed with SIGKILL
// inside the window (the target reverts by itself), a host key that is not the pinned one (abort,
// nothing sent), and bad input (exit 2, field named, nothing changed).
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, runCli } from "../../helpers/cli";
import { makeKeyPair } from "../../helpers/ssh-keys";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, lockdownArgs, startLab, type Lab } from "./fixture";
import { tryLogin } from "./login";
import { waitForSupervisor } from "./watch";

const supported = targetsSupported();

const cliArgs = lockdownArgs;

async function expectGeneration1(lab: Lab, hostJsonBefore: string) {
  const s = await nixosState(lab.t);
  expect(s.profileLink).toBe("system-1-link");
  expect(s.current).toBe(s.boot);
  expect(await tryLogin({ host: lab.t.address, port: 22, password: lab.t.rootPassword })).toMatchObject({ ok: true });
  expect(readFileSync(lab.hostJsonPath, "utf8")).toBe(hostJsonBefore);
}

describe.skipIf(!supported.ok)(`lockdown command${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab | undefined;
  afterEach(async () => {
    await lab?.stop();
    lab = undefined;
  });

  it("SIGKILLed inside the window: the target rolls back by itself and the flake still matches it", async () => {
    lab = await startLab();
    const before = readFileSync(lab.hostJsonPath, "utf8");
    await lab.t.faults.blockPort(NEW_PORT); // keep the window open until the kill lands
    const child = spawn(process.execPath, [BIN, ...cliArgs(lab, "--confirm-timeout", "8")], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", HOME: lab.work },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("close", (_c, sig) => r(sig)));
    await waitForSupervisor(lab.t, "dual-port", "switched");
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    await lab.t.faults.unblockPort(NEW_PORT);
    const state = await waitForSupervisor(lab.t, "dual-port", "rolled-back");
    expect(state).toMatch(/rolled-back no acknowledgement within 8s/);
    expect(output).toMatch(/activating under a supervisor/);
    await expectGeneration1(lab, before);
    expect(
      await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath, timeoutMs: 3000 }),
    ).toMatchObject({ ok: false });
  });

  it("Ctrl-C inside the window: the rollback is requested and reported, exit 130", async () => {
    lab = await startLab();
    const before = readFileSync(lab.hostJsonPath, "utf8");
    await lab.t.faults.blockPort(NEW_PORT);
    const child = spawn(process.execPath, [BIN, ...cliArgs(lab, "--confirm-timeout", "60")], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", HOME: lab.work },
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", () => undefined);
    const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    await waitForSupervisor(lab.t, "dual-port", "switched");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(
      /Interrupted\. lockdown stage 1 was rolled back: interrupted \(Ctrl-C\) during the confirmation; the previous configuration \(generation 1\) is active again; port 22 works/,
    );
    expect(await waitForSupervisor(lab.t, "dual-port", "rolled-back")).toMatch(/rolled-back operator: interrupted/);
    await lab.t.faults.unblockPort(NEW_PORT);
    await expectGeneration1(lab, before);
  });

  it("a host key that is not the pinned one: aborts with both fingerprints, sends nothing, changes nothing", async () => {
    lab = await startLab();
    const impostor = await makeKeyPair(lab.work, { comment: "impostor-host-key" });
    const host = JSON.parse(readFileSync(lab.hostJsonPath, "utf8"));
    host.ssh.hostKeyFingerprint = impostor.fingerprint;
    writeFileSync(lab.hostJsonPath, JSON.stringify(host, null, 2) + "\n");
    const before = readFileSync(lab.hostJsonPath, "utf8");
    const logBefore = (await lab.t.sshdLog()).length;
    const r = await runCli(cliArgs(lab), { env: { HOME: lab.work } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/THE HOST KEY HAS CHANGED/);
    expect(r.stderr).toContain(impostor.fingerprint);
    expect(r.stderr).toContain(lab.fingerprint);
    const log = (await lab.t.sshdLog()).slice(logBefore);
    expect(log).not.toMatch(/Accepted|Failed|Invalid user/);
    await expectGeneration1(lab, before);
  });

  it("bad input is refused with the field named, exit 2, nothing changed", async () => {
    lab = await startLab();
    const before = readFileSync(lab.hostJsonPath, "utf8");
    const cases: Array<[string[], RegExp]> = [
      [["--port", "22x"], /--port: "22x" is not a port number/],
      [["--port", "22"], /--port: 22 is the port being closed/],
      [["--confirm-timeout", "2"], /--confirm-timeout: "2" is not a number of seconds \(5-3600\)/],
      [["--ignore-ip", "my-laptop"], /--ignore-ip: "my-laptop" is not an IP address or CIDR/],
      [["--ignore-ip", "999.999.999.999/999"], /--ignore-ip: "999.999.999.999\/999" is not an IP address or CIDR/],
      [["--ignore-ip", "10.0.0.1; reboot"], /--ignore-ip: "10.0.0.1; reboot" is not an IP address or CIDR/],
      [["--host", "other"], /--host: .*other.*host.json does not exist/],
      [["--host-key", "SHA256:nope"], /--host-key: "SHA256:nope" is not a SHA256 fingerprint/],
      [["--flake", join(lab.work, "nowhere")], /--flake: .*nowhere (has no flake.nix|does not exist)/],
    ];
    for (const [extra, msg] of cases) {
      const r = await runCli([...cliArgs(lab), ...extra], { env: { HOME: lab.work } });
      expect(r.code, extra.join(" ")).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const noKeys = JSON.parse(before);
    noKeys.ssh.authorizedKeys = [];
    writeFileSync(lab.hostJsonPath, JSON.stringify(noKeys));
    const r = await runCli(cliArgs(lab), { env: { HOME: lab.work } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ssh.authorizedKeys: is empty/);
    writeFileSync(lab.hostJsonPath, before);
    await expectGeneration1(lab, before);
  });
});
