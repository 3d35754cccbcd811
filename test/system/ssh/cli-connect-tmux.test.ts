// The connect phase as an operator meets it, through the built CLI (`detect`, which only reads):
// at a real terminal (tmux) the unknown host key is shown and confirmed and the password is typed;
// without a terminal an unknown key is refused; a CHANGED key is refused with both fingerprints
// and nothing reaches the server beyond the handshake; a malformed destination is exit 2.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmuxServer } from "../../helpers/tmux";
import { BIN, runCli } from "../../helpers/cli";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";

const run = promisify(execFile);
const supported = targetsSupported();
const { available: hasTmux, tmux, screen, waitFor } = tmuxServer("nnt-connect");

const skip = !supported.ok ? ` (skipped: ${supported.reason})` : !hasTmux ? " (skipped: tmux is missing)" : "";
describe.skipIf(!supported.ok || !hasTmux)(`connecting from the CLI${skip}`, () => {
  let home: string;
  let t: TestTarget;
  const env = () => ({ HOME: home, SSH_AUTH_SOCK: undefined, NIXNODE_SSH_PASSWORD: undefined });
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "nnt-op-"));
    t = await startTarget();
  });
  afterAll(async () => {
    await tmux("kill-server").catch(() => undefined); // only this test's own tmux server (-L)
    await t?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("at a terminal: shows the fingerprint, asks, takes the typed password, remembers the key", async () => {
    const fp = await t.hostKeyFingerprint();
    const cmd = `env -u SSH_AUTH_SOCK -u NIXNODE_SSH_PASSWORD HOME='${home}' NO_COLOR=1 TERM=xterm-256color '${process.execPath}' '${BIN}' detect root@${t.address}; echo "EXIT=$?"; sleep 600`;
    await tmux("new-session", "-d", "-s", "first", "-x", "180", "-y", "50", cmd);
    const asked = await waitFor("first", /Does that match/);
    expect(asked).toContain(fp);
    // as with ssh, a lone "y" decides nothing: its Enter must not answer the next question
    await tmux("send-keys", "-t", "first", "y", "Enter");
    const again = await waitFor("first", /Please type "yes" or "no"/);
    expect(again).not.toMatch(/Password for root@/);
    await tmux("send-keys", "-t", "first", "BSpace", "yes", "Enter");
    await waitFor("first", /Password for root@/);
    await tmux("send-keys", "-t", "first", "-l", t.rootPassword);
    await tmux("send-keys", "-t", "first", "Enter");
    const done = await waitFor("first", /EXIT=\d+/, 90_000);
    expect(done).toMatch(/EXIT=0/);
    expect(done).not.toContain(t.rootPassword);
    expect(readFileSync(join(home, ".ssh", "known_hosts"), "utf8")).toContain(`${t.address} ssh-ed25519 `);
    expect(await t.sshdLog()).toMatch(/Accepted password for root/);
  });

  it('at a terminal: "no" declines the key; nothing is sent to the server and known_hosts is unchanged', async () => {
    const kh = join(home, "declined_known_hosts");
    const before = (await t.sshdLog()).length;
    const cmd = `env -u SSH_AUTH_SOCK -u NIXNODE_SSH_PASSWORD HOME='${home}' NO_COLOR=1 TERM=xterm-256color '${process.execPath}' '${BIN}' detect root@${t.address} --known-hosts '${kh}'; echo "EXIT=$?"; sleep 600`;
    await tmux("new-session", "-d", "-s", "declined", "-x", "180", "-y", "50", cmd);
    await waitFor("declined", /Does that match/);
    await tmux("send-keys", "-t", "declined", "no", "Enter");
    const done = await waitFor("declined", /EXIT=\d+/, 60_000);
    expect(done).not.toMatch(/EXIT=0/);
    expect(done).not.toMatch(/Password for root@/);
    expect(existsSync(kh)).toBe(false);
    expect((await t.sshdLog()).slice(before)).not.toMatch(/Accepted|Failed|Postponed/);
  });

  it("without a terminal: an unknown key is refused with the fingerprint and the flags that fix it", async () => {
    const r = await runCli(["detect", `root@${t.address}`, "--known-hosts", join(home, "empty_known_hosts")], {
      env: { ...env(), NIXNODE_SSH_PASSWORD: t.rootPassword },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(await t.hostKeyFingerprint());
    expect(r.stderr).toMatch(/--accept-new-host-key/);
  });

  it("a CHANGED host key: exit 3, both fingerprints, no authentication attempt reached the server", async () => {
    const old = await t.hostKeyFingerprint();
    await t.exec(
      "rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key",
    );
    await t.restartSshd();
    const fresh = await t.hostKeyFingerprint();
    expect(fresh).not.toBe(old);
    const before = (await t.sshdLog()).length;
    const r = await runCli(["detect", `root@${t.address}`, "--accept-new-host-key"], {
      env: { ...env(), NIXNODE_SSH_PASSWORD: t.rootPassword },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/HOST KEY HAS CHANGED/);
    expect(r.stderr).toContain(old);
    expect(r.stderr).toContain(fresh);
    expect((await t.sshdLog()).slice(before)).not.toMatch(/Accepted|Failed|Postponed/);
  });

  it("a malformed destination is exit 2 naming the field, before any connection", async () => {
    const before = (await t.sshdLog()).length;
    const r = await runCli(["detect", `root@${t.address}:833w`], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/target: "833w" is not a port number \(1-65535\)/);
    expect((await t.sshdLog()).slice(before)).toBe("");
  });
});
