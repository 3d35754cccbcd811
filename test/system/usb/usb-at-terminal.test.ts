// `usb` as a person meets it at a terminal (tmux): the erase is confirmed by typing the device's name;
// anything else writes nothing; the right name writes, draws the progress bar and reports verified.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../../helpers/cli";
import { tmuxServer } from "../../helpers/tmux";
import { shellQuote } from "../../../src/util/shell-quote";
import { Bench, HAVE_LOOP, readHead, sha256 } from "./loop-sticks";

const MiB = 1 << 20;
const { available: hasTmux, tmux, waitFor } = tmuxServer("nnt-usb");

describe.skipIf(!HAVE_LOOP || !hasTmux)("usb at a terminal: typed confirmation", () => {
  const bench = new Bench();
  let iso: ReturnType<Bench["image"]>;
  beforeAll(() => {
    iso = bench.image(10 * MiB);
  });
  afterAll(async () => {
    await tmux("kill-server").catch(() => undefined); // only this test's own tmux server (-L)
    await bench.cleanup();
  });

  const start = async (session: string, dev: string) => {
    const argv = [process.execPath, BIN, "usb", dev, "--image", iso.path, "--sha256", iso.sha256, "--force"];
    const cmd = `env NO_COLOR=1 TERM=xterm-256color ${argv.map(shellQuote).join(" ")}; echo "EXIT=$?"; sleep 600`;
    await tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", cmd);
    return waitFor(session, /Type loop\d+ to erase/);
  };

  it("a wrong name cancels (exit 130) and the stick is unchanged", async () => {
    const dev = bench.loop(16 * MiB);
    const before = sha256(readHead(dev, 16 * MiB));
    const screen = await start("wrong", dev);
    expect(screen).toContain(`This ERASES everything on ${dev} (16.0 MiB`);
    await tmux("send-keys", "-t", "wrong", "-l", "sda");
    await tmux("send-keys", "-t", "wrong", "Enter");
    const done = await waitFor("wrong", /EXIT=\d+/);
    expect(done).toContain(`"sda" is not ${dev.slice(5)}. Nothing was written.`);
    expect(done).toContain("EXIT=130");
    expect(sha256(readHead(dev, 16 * MiB))).toBe(before);
  });

  it("the device's name writes it: progress bar, verified, the image byte for byte", async () => {
    const dev = bench.loop(16 * MiB);
    await start("right", dev);
    await tmux("send-keys", "-t", "right", "-l", dev.slice(5));
    await tmux("send-keys", "-t", "right", "Enter");
    const done = await waitFor("right", /EXIT=\d+/);
    expect(done).toContain("EXIT=0");
    expect(done).toMatch(/Writing +\[#{24}\] 10\.0 MiB \/ 10\.0 MiB +[\d.]+ [KMG]?i?B\/s +0:00 left/);
    expect(done).toContain(`and read it back: verified (SHA-256 ${iso.sha256})`);
    expect(readHead(dev, iso.data.length).equals(iso.data)).toBe(true);
  });
});
