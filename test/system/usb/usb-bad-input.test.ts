// Every usb flag given wrong: exit 2, the error names the flag (or DEVICE) with a fix, and the loop
// device that would have been written reads exactly as before. --force is on so that the loop device
// itself passes; what is refused is the flag. No row contacts the network (bad --mirror values are
// refused before any request; the example.org ones would fail the test by hanging, not pass it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { Bench, HAVE_LOOP, readHead, sha256 } from "./loop-sticks";

const MiB = 1 << 20;

describe.skipIf(!HAVE_LOOP)("usb: bad input is refused with exit 2 and the stick untouched", () => {
  const bench = new Bench();
  let dev = "";
  let iso: ReturnType<Bench["image"]>;
  let before = "";
  beforeAll(() => {
    dev = bench.loop(8 * MiB);
    iso = bench.image(1 * MiB);
    before = sha256(readHead(dev, 8 * MiB));
  });
  afterAll(() => bench.cleanup());

  const rows: Array<[string, () => string[], string, RegExp]> = [
    [
      "--image missing",
      () => [dev, "--image", "/nonexistent/x.iso", "--sha256", iso.sha256],
      "--image",
      /does not exist/,
    ],
    ["--image without --sha256", () => [dev, "--image", iso.path], "--sha256", /required with --image/],
    ["--sha256 not hex", () => [dev, "--image", iso.path, "--sha256", "xyz"], "--sha256", /not a SHA-256/],
    ["--sha256 too short", () => [dev, "--image", iso.path, "--sha256", "ab".repeat(31)], "--sha256", /64 hex/],
    ["--release unknown", () => [dev, "--release", "99.99"], "--release", /not a release this tool knows/],
    [
      "--release with --image",
      () => [dev, "--image", iso.path, "--sha256", iso.sha256, "--release", "26.05"],
      "--release",
      /cannot be combined with --image/,
    ],
    ["--arch unknown", () => [dev, "--arch", "mips"], "--arch", /not one of x86_64, aarch64/],
    [
      "--arch with --image",
      () => [dev, "--image", iso.path, "--sha256", iso.sha256, "--arch", "x86_64"],
      "--arch",
      /no meaning with --image/,
    ],
    ["--mirror plain http off this machine", () => [dev, "--mirror", "http://example.org"], "--mirror", /not allowed/],
    ["--mirror not a URL", () => [dev, "--mirror", "not a url"], "--mirror", /not a URL/],
    ["--mirror with credentials", () => [dev, "--mirror", "https://u:p@example.org"], "--mirror", /no credentials/],
    [
      "--mirror with --image",
      () => [dev, "--image", iso.path, "--sha256", iso.sha256, "--mirror", "https://example.org"],
      "--mirror",
      /no meaning with --image/,
    ],
    [
      "--ssh-key a missing .pub file",
      () => [dev, "--ssh-key", "/nonexistent/id_ed25519.pub"],
      "--ssh-key",
      /is not a file here/,
    ],
    ["--ssh-key not a key", () => [dev, "--ssh-key", "hello"], "--ssh-key", /not an OpenSSH public key/],
    [
      "--ssh-key a private key",
      () => [dev, "--ssh-key=-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----"],
      "--ssh-key",
      /it is not shown/,
    ],
    [
      "no --yes without a terminal",
      () => [dev, "--image", iso.path, "--sha256", iso.sha256],
      "--yes",
      /without a terminal/,
    ],
    [
      "DEVICE missing",
      () => ["/dev/nixnode-no-such-disk", "--image", iso.path, "--sha256", iso.sha256],
      "DEVICE",
      /does not exist/,
    ],
    [
      "DEVICE a regular file",
      () => [iso.path, "--image", iso.path, "--sha256", iso.sha256],
      "DEVICE",
      /not a block device/,
    ],
    ["two devices", () => [dev, dev], "SECOND_DEVICE", /unexpected argument/],
    ["unknown flag", () => [dev, "--bogus"], "--bogus", /unknown option/i],
  ];

  it.each(rows)("%s", async (_name, args, field, message) => {
    const argv = ["usb", ...args(), "--json"];
    if (!argv.includes("--yes") && _name !== "no --yes without a terminal") argv.push("--yes");
    argv.push("--force");
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    const err = r.events.find((e) => e.type === "error")!;
    expect(err.field).toBe(field === "SECOND_DEVICE" ? dev : field);
    expect(String(err.message)).toMatch(message);
    expect(typeof err.hint).toBe("string");
    expect(JSON.stringify(r.events)).not.toContain("b3Blbn");
    expect(sha256(readHead(dev, 8 * MiB))).toBe(before);
  });
});
