// The install wizard at a real terminal (tmux runs the built CLI, `nixnode-install root@HOST`):
// the screen says what happens while the target is reached and probed; a machine the preflight
// refuses is refused BEFORE the first question; and the key the operator logs in with (-i) is
// offered, ticked, among the keys for the new system. Nothing is written locally in either case.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmuxServer } from "../../helpers/tmux";
import { BIN } from "../../helpers/cli";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";
import { looksLikeKvmVps, operatorHome } from "../detect/operator-home";

const supported = targetsSupported();
const { available: hasTmux, tmux, waitFor, keys } = tmuxServer("nnt-install-wizard");
const skip = !supported.ok ? ` (skipped: ${supported.reason})` : !hasTmux ? " (skipped: tmux is missing)" : "";

describe.skipIf(!supported.ok || !hasTmux)(`the install wizard at a real terminal${skip}`, () => {
  let dir: string;
  let key: KeyPair;
  let login: KeyPair;
  let small: TestTarget;
  let vps: TestTarget;
  let smallHome: string;
  let vpsHome: string;
  const start = async (name: string, home: string, cwd: string, args: string[]) => {
    const cmd = `cd '${cwd}' && env -u SSH_AUTH_SOCK -u NIXNODE_SSH_PASSWORD HOME='${home}' NO_COLOR=1 TERM=xterm-256color '${process.execPath}' '${BIN}' ${args.join(" ")}; echo "EXIT=$?"; sleep 600`;
    await tmux("new-session", "-d", "-s", name, "-x", "200", "-y", "50", cmd);
  };
  const freshCwd = (name: string) => {
    const cwd = join(dir, name);
    mkdirSync(cwd);
    return cwd;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nnt-install-wizard-"));
    key = await makeKeyPair(dir, { comment: "home@laptop" });
    mkdirSync(join(dir, "elsewhere"));
    login = await makeKeyPair(join(dir, "elsewhere"), { comment: "login@laptop" });
    [small, vps] = await Promise.all([
      startTarget({ authorizedKeys: [key.publicKey, login.publicKey], virt: "kvm", memoryMiB: 900 }),
      startTarget({ authorizedKeys: [key.publicKey, login.publicKey], virt: "kvm", hostname: "vps-77" }),
    ]);
    await Promise.all([looksLikeKvmVps(small), looksLikeKvmVps(vps)]);
    smallHome = await operatorHome(small, key);
    vpsHome = await operatorHome(vps, key);
  });
  afterAll(async () => {
    await tmux("kill-server").catch(() => undefined); // only this test's own tmux server (-L)
    await Promise.all([small?.stop(), vps?.stop()]);
    for (const d of [dir, smallHome, vpsHome]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("a machine the preflight refuses: connecting and probing are shown, then exit 2 before any question", async () => {
    const cwd = freshCwd("refused");
    const before = (await small.sshdLog()).length;
    await start("refused", smallHome, cwd, [`root@${small.address}`]);
    const s = await waitFor("refused", /EXIT=\d+/, 90_000);
    expect(s).toContain(`Connecting to root@${small.address}:22`);
    expect(s).toContain(`Probing root@${small.address}:22`);
    expect(s).toMatch(/cannot be installed: the preflight refused it/);
    expect(s).toMatch(/memory/i);
    expect(s).toContain("EXIT=2");
    expect(s).not.toMatch(/Host name of the new system|Disk layout|public keys/);
    expect(readdirSync(cwd)).toEqual([]); // no flake folder, nothing else
    // one login, one command (the probe): nothing else ran on the refused machine
    const after = (await small.sshdLog()).slice(before);
    expect(after.match(/Starting session: command /g)).toHaveLength(1);
  });

  it("a machine that can be installed: the first question comes after the probe, and the -i key is offered first, ticked", async () => {
    const cwd = freshCwd("offered");
    await start("offered", vpsHome, cwd, [`root@${vps.address}`, "-i", login.privatePath]);
    let s = await waitFor("offered", /Host name of the new system/, 90_000);
    expect(s).toMatch(/✔ Connecting to root@.*:22/);
    expect(s).toMatch(/✔ Probing root@.*: Ubuntu 24\.04\.1 LTS, x86_64, 1 disk/);
    await keys("offered", "Enter"); // vps-77
    await waitFor("offered", /Disk layout/);
    await keys("offered", "Enter");
    await waitFor("offered", /What should this node run/);
    await keys("offered", "Enter");
    s = await waitFor("offered", /Which public keys may log in/);
    const lines = s.split("\n");
    const first = lines.findIndex((l) => /login@laptop/.test(l));
    const second = lines.findIndex((l) => /home@laptop/.test(l));
    expect(first).toBeGreaterThan(-1);
    expect(second).toBeGreaterThan(first); // the login key first, ~/.ssh's after it
    expect(lines[first]).toMatch(/◉/); // ticked
    expect(s).toMatch(/paste other keys/);
    await keys("offered", "C-c");
    s = await waitFor("offered", /EXIT=\d+/);
    expect(s).toContain("EXIT=130");
    expect(readdirSync(cwd)).toEqual([]);
  });
});
