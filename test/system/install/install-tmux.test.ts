// A person at the terminal: tmux runs `nixnode-install root@<target>` (the built bundle, no --yes).
// The erase summary is shown and the host name must be typed: a wrong name cancels with the target
// untouched; the right one runs the task list to a verified NixOS.
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { tmuxServer } from "../../helpers/tmux";
import { BIN } from "../../helpers/cli";
import { targetsSupported } from "../../targets/index";
import { installFixture, type InstallFixture } from "./install-fixture";

const run = promisify(execFile);
const supported = targetsSupported();
const {
  available: hasTmux,
  tmux,
  screen,
  waitFor,
  keys,
} = tmuxServer("nnt-install", { scrollback: 300, timeoutMs: 90000 });

let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});
afterAll(async () => {
  await tmux("kill-server").catch(() => undefined); // only this file's own tmux server (-L)
});

async function startInteractive(fx: InstallFixture, name: string) {
  // every answer the wizard could ask is in the config: only the erase confirmation is left
  writeFileSync(
    fx.configFile,
    JSON.stringify({
      hostname: "node1",
      profile: "base",
      timezone: "UTC",
      ssh: { authorizedKeys: [fx.key.publicKey], port: 2222 },
      fail2ban: { ignoreIP: [] },
    }),
  );
  const env = Object.entries({ ...fx.env, NO_COLOR: "1", TERM: "xterm-256color" })
    .map(([k, v]) => `${k}='${v}'`)
    .join(" ");
  const args = [
    "install",
    `root@${fx.target.address}`,
    "--config",
    fx.configFile,
    "-i",
    fx.key.privatePath,
    "--host-key",
    fx.originalFingerprint,
    "--known-hosts",
    fx.knownHosts,
    "--no-lockdown",
    "--log-dir",
    join(fx.work, "logs"),
  ];
  const cmd = `cd '${fx.work}' && env ${env} '${process.execPath}' '${BIN}' ${args.join(" ")}; echo "EXIT=$?"; sleep 600`;
  await tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "60", cmd);
  // accept the defaults of any question the wizard still asks, until the confirmation shows
  for (let i = 0; i < 10; i++) {
    const s = await waitFor(name, /Type the host name|\?.*›/);
    if (/Type the host name/.test(s)) return s;
    await keys(name, "Enter");
    await sleep(300);
  }
  return waitFor(name, /Type the host name/);
}

describe.skipIf(!supported.ok || !hasTmux)(
  `install at a real terminal${supported.ok ? (hasTmux ? "" : " (skipped: tmux is missing)") : ` (skipped: ${supported.reason})`}`,
  () => {
    it("a wrong host name at the confirmation cancels; the target is untouched", async () => {
      f = await installFixture();
      const bootBefore = await f.target.bootId();
      const s = await startInteractive(f, "wrong");
      expect(s).toMatch(/These disks will be ERASED:/);
      await keys("wrong", "node2", "Enter");
      const end = await waitFor("wrong", /EXIT=\d+/);
      expect(end).toContain("EXIT=130");
      expect(end).toMatch(/"node2" is not "node1": nothing was erased/);
      expect(await f.target.bootId()).toBe(bootBefore);
      expect(await f.target.hostKeyFingerprint()).toBe(f.originalFingerprint);
    });

    it("typing the host name runs the task list to a verified NixOS", async () => {
      f = await installFixture();
      await startInteractive(f, "right");
      await keys("right", "node1", "Enter");
      const end = await waitFor("right", /EXIT=\d+/, 110_000);
      if (process.env.NN_SHOW_SCREEN) console.log(end);
      expect(end).toContain("EXIT=0");
      for (const row of [
        "kexec into the NixOS installer",
        "partition and format the disks",
        "install NixOS",
        "reboot into NixOS",
        "verify the new system",
      ])
        expect(end).toContain(row);
      expect(end).toMatch(/node1 runs NixOS; its host key SHA256:\S+ is pinned/);
      // the next command names this target and flake (and repeats the SSH flags that were given)
      const next = end.split("\n").find((l) => l.startsWith("Next: "));
      expect(next).toMatch(
        new RegExp(
          `^Next: nixnode-install lockdown root@${f.target.address.replace(/\./g, "\\.")} .*--flake node1\\s*$`,
        ),
      );
      expect((await f.target.exec("cat /etc/os-release")).stdout).toMatch(/^ID=nixos$/m);
    });
  },
);
