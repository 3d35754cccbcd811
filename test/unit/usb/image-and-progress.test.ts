// The hash and mirror checks, the official ISO address, the progress line and the --ssh-key advice.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { minimalIsoUrl } from "../../../src/plan/releases";
import { parsePublicKey } from "../../../src/plan/ssh-public-key";
import { createOutput } from "../../../src/ui/output";
import { consoleKeyAdvice } from "../../../src/usb/console-key-commands";
import { parseMirror, parseSha256 } from "../../../src/usb/image-source";
import { progressBar } from "../../../src/usb/progress-bar";

describe("image source checks", () => {
  it("the official minimal ISO address follows channels.nixos.org's latest-* layout", () => {
    expect(minimalIsoUrl("26.05", "x86_64")).toBe(
      "https://channels.nixos.org/nixos-26.05/latest-nixos-minimal-x86_64-linux.iso",
    );
    expect(minimalIsoUrl("26.05", "aarch64", "http://127.0.0.1:8080/")).toBe(
      "http://127.0.0.1:8080/nixos-26.05/latest-nixos-minimal-aarch64-linux.iso",
    );
  });

  it("--sha256 accepts 64 hex digits in either case and nothing else", () => {
    expect(parseSha256("AB".repeat(32), "--sha256")).toBe("ab".repeat(32));
    expect(() => parseSha256("ab".repeat(32) + "0", "--sha256")).toThrow(/--sha256: .* is not a SHA-256/);
    expect(() => parseSha256("sha256-abc=", "--sha256")).toThrow(/64 hex digits/);
  });

  it("--mirror must be HTTPS, or HTTP only to this machine", () => {
    expect(parseMirror("https://mirror.example.org/nixos/")).toBe("https://mirror.example.org/nixos");
    expect(parseMirror("http://127.0.0.1:4321")).toBe("http://127.0.0.1:4321");
    expect(() => parseMirror("http://10.0.0.1")).toThrow(/--mirror: http:\/\/ is not allowed for 10\.0\.0\.1/);
    expect(() => parseMirror("ftp://127.0.0.1")).toThrow(/not allowed/);
    expect(() => parseMirror("https://mirror.example.org/?token=1")).toThrow(/no credentials, query/);
  });
});

describe("progress", () => {
  it("--json events carry bytes, total, rate and time left", () => {
    const lines: string[] = [];
    const stdout = new Writable({
      write(c, _e, cb) {
        lines.push(String(c));
        cb();
      },
    });
    const out = createOutput({ stdout, stderr: stdout, json: true, env: {}, stdinIsTTY: false });
    let t = 1_000_000;
    const bar = progressBar(out, "write", "Writing", () => t);
    t += 2000;
    bar.update(100 << 20, 400 << 20);
    t += 100; // throttled: less than half a second later
    bar.update(101 << 20, 400 << 20);
    t += 1000;
    bar.update(400 << 20, 400 << 20);
    const events = lines.map((l) => JSON.parse(l) as { data: { progress: Record<string, unknown> }; message: string });
    expect(events.map((e) => e.data.progress)).toEqual([
      { phase: "write", bytes: 100 << 20, total: 400 << 20, bytesPerSecond: 50 << 20, secondsLeft: 6 },
      {
        phase: "write",
        bytes: 400 << 20,
        total: 400 << 20,
        bytesPerSecond: Math.round((400 << 20) / 3.1),
        secondsLeft: 0,
      },
    ]);
    expect(events[0]!.message).toBe("Writing [######..................] 100.0 MiB / 400.0 MiB  50.0 MiB/s  0:06 left");
  });
});

describe("--ssh-key", () => {
  it("prints the key as one shell-quoted echo a person can type at the installer's console", () => {
    const key = parsePublicKey(
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOjh1wU4Pqef3+Buo/nFgsdQlbLaRAiz7L6tX+n3fJ74 o'brien@laptop",
      "--ssh-key",
    );
    const a = consoleKeyAdvice(key);
    expect(a.supported).toBe(false);
    expect(a.commands).toEqual([
      "mkdir -p -m 700 ~/.ssh",
      `echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOjh1wU4Pqef3+Buo/nFgsdQlbLaRAiz7L6tX+n3fJ74 o'\\''brien@laptop' >> ~/.ssh/authorized_keys`,
    ]);
  });
});
