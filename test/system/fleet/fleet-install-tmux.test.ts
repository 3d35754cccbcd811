// `fleet install` at a real terminal (tmux, the built bundle, no --yes): every host's disks are
// shown and every host name must be typed BEFORE any host changes. A wrong second name ends the run
// with both machines untouched; typing both runs one listr2 row per host to the final table.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tmuxServer } from "../../helpers/tmux";
import { BIN } from "../../helpers/cli";
import { targetsSupported } from "../../targets/index";
import { fleetFixture, type FleetFixture } from "./fleet-fixture";

const supported = targetsSupported();
const { available: hasTmux, tmux, waitFor, keys } = tmuxServer("nnt-fleet", { scrollback: 400, timeoutMs: 120_000 });

let f: FleetFixture | null = null;
afterAll(async () => {
  await tmux("kill-server").catch(() => undefined); // only this file's own tmux server (-L)
  await f?.cleanup();
});

async function start(fx: FleetFixture, name: string) {
  const env = Object.entries({ ...fx.env, NO_COLOR: "1", TERM: "xterm-256color" })
    .map(([k, v]) => `${k}='${v}'`)
    .join(" ");
  const args = [
    "fleet",
    "install",
    "--flake",
    fx.flakeDir,
    "-i",
    fx.key.privatePath,
    "--known-hosts",
    fx.knownHosts,
    "--accept-new-host-key",
    "--confirm-timeout",
    "30",
    "--log-dir",
    join(fx.work, "logs"),
  ];
  const cmd = `cd '${fx.work}' && env ${env} '${process.execPath}' '${BIN}' ${args.join(" ")}; echo "EXIT=$?"; sleep 900`;
  await tmux("new-session", "-d", "-s", name, "-x", "200", "-y", "60", cmd);
}

describe.skipIf(!supported.ok || !hasTmux)(
  `fleet install at a real terminal${supported.ok ? (hasTmux ? "" : " (skipped: tmux is missing)") : ` (skipped: ${supported.reason})`}`,
  () => {
    it("asks every host name before any host changes; a wrong one ends the run untouched; the right ones run a row per host", async () => {
      f = await fleetFixture(2);
      const boots = await Promise.all(f.names.map((n) => f!.targets[n]!.bootId()));
      const keysBefore = await Promise.all(f.names.map((n) => f!.targets[n]!.hostKeyFingerprint()));

      await start(f, "wrong");
      let s = await waitFor("wrong", /Type the host name \(collector1\)/);
      // both machines' disks are listed before the first question
      expect(s).toMatch(/collector1 \(\S+\): every disk in hosts\/collector1\/disk-config\.nix will be ERASED/);
      expect(s).toMatch(/node1 \(\S+\): every disk in hosts\/node1\/disk-config\.nix will be ERASED/);
      await keys("wrong", "collector1", "Enter");
      await waitFor("wrong", /Type the host name \(node1\)/);
      await keys("wrong", "node2", "Enter");
      s = await waitFor("wrong", /EXIT=\d+/);
      expect(s).toContain("EXIT=2");
      expect(s).toMatch(/"node2" is not "node1": nothing was erased on any host/);
      // neither machine was touched: same boot, same (original) host key
      expect(await Promise.all(f.names.map((n) => f!.targets[n]!.bootId()))).toEqual(boots);
      expect(await Promise.all(f.names.map((n) => f!.targets[n]!.hostKeyFingerprint()))).toEqual(keysBefore);

      await start(f, "right");
      await waitFor("right", /Type the host name \(collector1\)/);
      await keys("right", "collector1", "Enter");
      await waitFor("right", /Type the host name \(node1\)/);
      await keys("right", "node1", "Enter");
      s = await waitFor("right", /EXIT=\d+/, 600_000);
      if (process.env.NN_SHOW_SCREEN) console.log(s);
      expect(s).toContain("EXIT=0");
      // the listr rows' final titles, then the table
      expect(s).toMatch(/collector1: installed and locked down/);
      expect(s).toMatch(/node1: installed and locked down/);
      expect(s).toMatch(/HOST\s+RESULT\s+PINNED HOST KEY\s+SSH PORT/);
      expect(s).toMatch(/node1\s+installed and locked down\s+SHA256:\S+\s+2222/);
      for (const n of f.names) expect((await f.targets[n]!.exec("cat /etc/os-release")).stdout).toMatch(/^ID=nixos$/m);
    }, 900_000);
  },
);
