// Day-two switches on a locked-down target: --dry-run changes nothing, a plain change is confirmed
// and becomes the boot default, and 2222 -> 2200 is confirmed on 2200 with 2222 closed after.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab, runSwitchOn } from "./fixture";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`switch${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await lockedDownLab();
  }, 180_000);
  afterAll(() => lab?.stop());

  it("--dry-run prints the change and the commands and leaves the target on its generation", async () => {
    const before = await nixosState(lab.t);
    editHost(lab, (h) => (h.timezone = "Europe/Berlin"));
    const r = await runSwitchOn(lab, { dryRun: true });
    expect(r.error?.message).toBeUndefined();
    expect(r.output).toContain('timezone: "UTC" -> "Europe/Berlin"');
    expect(r.output).toMatch(/nix --extra-experimental-features .* build/);
    expect(r.output).toContain("services started/stopped: known after the build (a dry run builds nothing)");
    const after = await nixosState(lab.t);
    expect(after.profileLink).toBe(before.profileLink);
    expect(after.current).toBe(before.current);
  }, 60_000);

  it("a plain change is confirmed and made the boot default; the summary names the service it starts", async () => {
    const before = await nixosState(lab.t);
    // the personality's next builds also want nginx.service (as a new package's module would)
    await lab.t.exec(`mkdir -p '${lab.t.dir}/nixos-test' && echo nginx > '${lab.t.dir}/nixos-test/extra-units'`);
    const r = await runSwitchOn(lab);
    expect(r.error?.message).toBeUndefined();
    expect(r.output).toContain("services started: nginx.service");
    expect(r.output.indexOf("services started")).toBeLessThan(r.output.indexOf("activating under a supervisor"));
    expect(r.output).toContain(`confirmed on port ${NEW_PORT}`);
    const after = await nixosState(lab.t);
    expect(after.profileLink).not.toBe(before.profileLink);
    expect(after.current).toBe(after.boot);
    const tz = await lab.t.exec(`cat ${after.current}/host.json`);
    expect(JSON.parse(tz.stdout).timezone).toBe("Europe/Berlin");
  }, 120_000);

  it("a supervisor that has acknowledged and is still exiting does not block the next switch", async () => {
    // the moment right after a confirmed switch: the state says acknowledged, the process is not gone yet
    await lab.t.exec(
      `mkdir -p /run/nixnode-lockdown/final && echo "$(date +%s) acknowledged" >> /run/nixnode-lockdown/final/state && ` +
        `setsid sh -c 'sleep 3' </dev/null >/dev/null 2>&1 & echo $! > /run/nixnode-lockdown/final/supervisor.pid`,
    );
    const before = await nixosState(lab.t);
    editHost(lab, (h) => (h.timezone = "Europe/Paris"));
    const r = await runSwitchOn(lab);
    expect(r.error?.message).toBeUndefined();
    const after = await nixosState(lab.t);
    expect(after.profileLink).not.toBe(before.profileLink);
    expect(JSON.parse((await lab.t.exec(`cat ${after.current}/host.json`)).stdout).timezone).toBe("Europe/Paris");
  }, 120_000);

  it("a firewall change dropping the operator's SSH port is refused before activation", async () => {
    const before = await nixosState(lab.t);
    editHost(lab, (h) => (h.firewall.allowedTCPPorts = h.firewall.allowedTCPPorts.filter((p) => p !== NEW_PORT)));
    const r = await runSwitchOn(lab);
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toMatch(/firewall would drop SSH: sshd listens on 2222/);
    expect((await nixosState(lab.t)).profileLink).toBe(before.profileLink);
    expect(await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath })).toMatchObject({
      ok: true,
    });
    editHost(lab, (h) => h.firewall.allowedTCPPorts.push(NEW_PORT));
  }, 60_000);

  it("port 2222 -> 2200 is confirmed on 2200, 2222 is closed after, known_hosts has [host]:2200", async () => {
    editHost(lab, (h) => {
      h.ssh.ports = [2200];
      h.firewall.allowedTCPPorts = [...h.firewall.allowedTCPPorts.filter((p) => p !== NEW_PORT), 2200];
      h.lockdown.port = 2200;
    });
    const r = await runSwitchOn(lab);
    expect(r.error?.message).toBeUndefined();
    expect(r.output).toContain("sshd ports: 2222 -> 2200");
    expect(r.output).toContain("confirmed on port 2200");
    expect(await tryLogin({ host: lab.t.address, port: 2200, privateKeyPath: lab.key.privatePath })).toMatchObject({
      ok: true,
    });
    expect(
      await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath, timeoutMs: 3000 }),
    ).toMatchObject({ ok: false });
    expect(readFileSync(join(lab.work, "known_hosts"), "utf8")).toContain(`[${lab.t.address}]:2200`);
  }, 120_000);
});
