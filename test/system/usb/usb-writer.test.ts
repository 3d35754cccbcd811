// `usb` against real loop devices: the image reaches the device byte for byte, or (bad hash, refused
// disk, bad flag) the device reads exactly as before. Images and .sha256 files come from an HTTP server
// on 127.0.0.1. Loop devices are never removable, so the runs that must pass the removable check
// either use --force through the real CLI, or call runUsb in-process with a fake sysfs that reports
// the loop device removable (everything else, and the write, is the real device).
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { Writable } from "node:stream";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isNixnodeError, type NixnodeError } from "../../../src/errors";
import { createOutput } from "../../../src/ui/output";
import { noPrompter } from "../../../src/ui/prompter";
import { runUsb, type UsbRequest } from "../../../src/usb/run-usb";
import type { UsbDeps } from "../../../src/usb/block-devices";
import { BIN, runCli } from "../../helpers/cli";
import { Bench, HAVE_LOOP, readHead, sha256 } from "./loop-sticks";

const MiB = 1 << 20;

/** runUsb in-process with --json output; `onEvent` sees each event as it is written. */
async function inProcess(
  r: Partial<UsbRequest>,
  deps: UsbDeps,
  opts: { abort?: AbortController; onEvent?: (e: Record<string, unknown>) => void } = {},
): Promise<{ code: number | null; error: NixnodeError | null; events: Array<Record<string, unknown>> }> {
  const events: Array<Record<string, unknown>> = [];
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n").filter(Boolean)) {
        const e = JSON.parse(line) as Record<string, unknown>;
        events.push(e);
        opts.onEvent?.(e);
      }
      cb();
    },
  });
  const out = createOutput({ stdout, stderr: stdout, json: true, env: {}, stdinIsTTY: false });
  const abort = opts.abort ?? new AbortController();
  try {
    const code = await runUsb(
      { yes: true, force: false, ...r },
      { out, prompter: noPrompter(), signal: abort.signal, cwd: process.cwd() },
      deps,
    );
    return { code, error: null, events };
  } catch (e) {
    if (!isNixnodeError(e)) throw e;
    return { code: e.exitCode, error: e, events };
  }
}

const deviceHash = (dev: string, bytes: number) => sha256(readHead(dev, bytes));
const progressOf = (events: Array<Record<string, unknown>>, phase: string) =>
  events
    .map((e) => (e.data as { progress?: Record<string, unknown> } | undefined)?.progress)
    .filter((p): p is Record<string, unknown> => !!p && p.phase === phase);

describe.skipIf(!HAVE_LOOP)("usb: writing the installer to a loop-device stick", () => {
  const bench = new Bench();
  let iso: ReturnType<Bench["image"]>;
  beforeAll(() => {
    iso = bench.image(10 * MiB);
  });
  afterAll(() => bench.cleanup());

  it("downloads from the (local) mirror, checks the published hash, writes, and the device holds the image byte for byte", async () => {
    const dev = bench.loop(32 * MiB);
    const mirror = await bench.server(iso.data, iso.sha256);
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOjh1wU4Pqef3+Buo/nFgsdQlbLaRAiz7L6tX+n3fJ74 op@laptop";
    const r = await runCli([
      "usb",
      dev,
      "--mirror",
      mirror,
      "--arch",
      "x86_64",
      "--ssh-key",
      key,
      "--yes",
      "--force",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readHead(dev, iso.data.length).equals(iso.data)).toBe(true);
    const result = r.events.find((e) => e.type === "result")!.data as Record<string, unknown>;
    expect(result).toMatchObject({ device: dev, sha256: iso.sha256, bytes: iso.data.length, verified: true });
    // the stock image takes no key: the result carries what to type at its console instead
    expect(result.sshKey).toMatchObject({
      supported: false,
      commands: ["mkdir -p -m 700 ~/.ssh", `echo '${key}' >> ~/.ssh/authorized_keys`],
    });
    const writes = progressOf(r.events, "write");
    expect(writes.at(-1)).toMatchObject({ bytes: iso.data.length, total: iso.data.length });
    expect(typeof writes.at(-1)!.bytesPerSecond).toBe("number");
    expect(progressOf(r.events, "download").at(-1)).toMatchObject({ bytes: iso.data.length });
    expect(progressOf(r.events, "verify").at(-1)).toMatchObject({ bytes: iso.data.length });
  });

  it("a stick reported removable is written without --force from --image/--sha256, byte for byte", async () => {
    const dev = bench.loop(16 * MiB);
    const r = await inProcess({ device: dev, image: iso.path, sha256: iso.sha256 }, bench.deps([dev]));
    expect(r.error?.message).toBeUndefined();
    expect(r.code).toBe(0);
    expect(readHead(dev, iso.data.length).equals(iso.data)).toBe(true);
  });

  it("a download whose hash differs from the published one writes nothing (exit 3, device unchanged)", async () => {
    const dev = bench.loop(32 * MiB);
    const before = deviceHash(dev, 32 * MiB);
    const mirror = await bench.server(iso.data, "0".repeat(64));
    const r = await runCli(["usb", dev, "--mirror", mirror, "--arch", "x86_64", "--yes", "--force"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`not the published ${"0".repeat(64)}`);
    expect(r.stderr).toContain("nothing was written");
    expect(deviceHash(dev, 32 * MiB)).toBe(before);
  });

  it("--image whose SHA-256 is not --sha256 writes nothing (exit 2 naming --sha256, device unchanged)", async () => {
    const dev = bench.loop(16 * MiB);
    const before = deviceHash(dev, 16 * MiB);
    const r = await runCli(["usb", dev, "--image", iso.path, "--sha256", "ab".repeat(32), "--yes", "--force"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--sha256: ${iso.path} has SHA-256 ${iso.sha256}`);
    expect(deviceHash(dev, 16 * MiB)).toBe(before);
  });

  it("a disk that is not removable is refused without --force (exit 2 naming it), untouched", async () => {
    const dev = bench.loop(16 * MiB);
    const before = deviceHash(dev, 16 * MiB);
    const r = await runCli(["usb", dev, "--image", iso.path, "--sha256", iso.sha256, "--yes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`refusing to write ${dev}: it is not a removable disk`);
    expect(r.stderr).toContain("--force");
    expect(deviceHash(dev, 16 * MiB)).toBe(before);
  });

  it("a stick with a mounted filesystem is refused (exit 2 naming it and the mount point), untouched", async () => {
    const dev = bench.loop(16 * MiB);
    const { execFileSync } = await import("node:child_process");
    execFileSync("mkfs.ext4", ["-q", "-F", dev]);
    const where = join(bench.dir, "mnt-ext4");
    bench.mount(["-o", "ro", dev], where);
    const before = deviceHash(dev, 16 * MiB);
    const r = await inProcess({ device: dev, image: iso.path, sha256: iso.sha256 }, bench.deps([dev]));
    expect(r.code).toBe(2);
    expect(r.error!.message).toBe(
      `refusing to write ${dev}: it holds a mounted filesystem (${where}); unmount it first`,
    );
    expect(deviceHash(dev, 16 * MiB)).toBe(before);
  });

  it("a stick smaller than the image is refused even with --force (exit 2), untouched", async () => {
    const dev = bench.loop(4 * MiB);
    const before = deviceHash(dev, 4 * MiB);
    const viaCli = await runCli(["usb", dev, "--image", iso.path, "--sha256", iso.sha256, "--yes", "--force"]);
    expect(viaCli.code).toBe(2);
    expect(viaCli.stderr).toContain(`refusing to write ${dev}: it is smaller than the image (4.0 MiB < 10.0 MiB)`);
    const removable = await inProcess({ device: dev, image: iso.path, sha256: iso.sha256 }, bench.deps([dev]));
    expect(removable.code).toBe(2);
    expect(removable.error!.message).toContain("smaller than the image");
    expect(deviceHash(dev, 4 * MiB)).toBe(before);
  });

  it("an interrupted write (SIGINT's abort after the first chunk) says the stick is not bootable and how to re-run", async () => {
    const dev = bench.loop(32 * MiB);
    const big = bench.image(24 * MiB, "big.iso");
    const abort = new AbortController();
    const r = await inProcess({ device: dev, image: big.path, sha256: big.sha256 }, bench.deps([dev]), {
      abort,
      onEvent: (e) => {
        const p = (e.data as { progress?: { phase: string } } | undefined)?.progress;
        if (p?.phase === "write") abort.abort();
      },
    });
    expect(r.code).toBe(130);
    expect(r.error!.message).toMatch(new RegExp(`^Interrupted\\. ${dev} is NOT bootable now: 4\\.0 MiB of 24\\.0 MiB`));
    expect(r.error!.hint).toBe(
      `run the command again to write the whole image: nixnode-install usb ${dev} --image ${big.path} --sha256 ${big.sha256}`,
    );
    const head = readHead(dev, 24 * MiB);
    expect(head.subarray(0, 4 * MiB).equals(big.data.subarray(0, 4 * MiB))).toBe(true);
    expect(head.subarray(4 * MiB).equals(big.data.subarray(4 * MiB))).toBe(false);
  });

  it("a real SIGINT to the CLI during the write: exit 130, NOT bootable, the re-run command, image not complete", async () => {
    const dev = bench.loop(160 * MiB);
    // 128 MiB: a random head, then a non-zero fill (the sparse device reads zeros where nothing was
    // written). The first sync comes at 64 MiB, long after the first progress event at 4 MiB, which is
    // when the signal is sent.
    const head = bench.image(8 * MiB, "sigint.iso");
    appendFileSync(head.path, Buffer.alloc(120 * MiB, 0xab));
    const full = readHead(head.path, 128 * MiB);
    const child = spawn(
      process.execPath,
      [BIN, "usb", dev, "--image", head.path, "--sha256", sha256(full), "--yes", "--force", "--json"],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
    );
    let stdout = "";
    let sent = false;
    child.stdout.on("data", (d) => {
      stdout += String(d);
      if (!sent && /"phase":"write"/.test(stdout)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((r) => child.on("close", r));
    const events = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const err = events.find((e) => e.type === "error")!;
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(String(err.message)).toMatch(
      new RegExp(`^Interrupted\\. ${dev} is NOT bootable now: [\\d.]+ MiB of 128\\.0 MiB`),
    );
    expect(String(err.hint)).toContain(`run the command again to write the whole image: nixnode-install usb ${dev}`);
    expect(events.some((e) => e.type === "result")).toBe(false);
    expect(sha256(readHead(dev, 128 * MiB))).not.toBe(sha256(full));
  });

  it("an interrupt while the image is still being checked leaves the disk unchanged (exit 130)", async () => {
    const dev = bench.loop(32 * MiB);
    const before = deviceHash(dev, 32 * MiB);
    const big = bench.image(24 * MiB, "check.iso");
    const abort = new AbortController();
    const r = await inProcess({ device: dev, image: big.path, sha256: big.sha256 }, bench.deps([dev]), {
      abort,
      onEvent: (e) => {
        const p = (e.data as { progress?: { phase: string } } | undefined)?.progress;
        if (p?.phase === "check") abort.abort();
      },
    });
    expect(r.code).toBe(130);
    expect(r.error!.message).toBe("Interrupted before anything was written; the disk is unchanged.");
    expect(progressOf(r.events, "write")).toEqual([]);
    expect(deviceHash(dev, 32 * MiB)).toBe(before);
  });

  it("an I/O error during the write (the stick's backing store runs out) is reported: not bootable, re-run (exit 3)", async () => {
    const small = join(bench.dir, "tiny-tmpfs");
    bench.mount(["-t", "tmpfs", "-o", "size=3m", "tmpfs"], small);
    const dev = bench.loop(32 * MiB, small);
    const r = await runCli(["usb", dev, "--image", iso.path, "--sha256", iso.sha256, "--yes", "--force"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`error: writing ${dev} failed`);
    expect(r.stderr).toMatch(new RegExp(`${dev} is NOT bootable now: .* of 10\\.0 MiB were written`));
    expect(r.stderr).toContain(`run the command again: nixnode-install usb ${dev} --image ${iso.path}`);
    expect(r.stderr).not.toContain("verified");
  });
});
