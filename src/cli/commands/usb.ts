// `nixnode-install usb [DEVICE]`: the official NixOS minimal installer, verified, written to a stick and
// read back. Without DEVICE it lists the removable disks. The logic lives in src/usb/.
import { systemDeps } from "../../usb/block-devices";
import { runUsb } from "../../usb/run-usb";
import type { Command } from "../command";

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

const command: Command = {
  name: "usb",
  summary: "write the verified NixOS installer image to a USB stick (lists sticks without DEVICE)",
  usage:
    "nixnode-install usb [DEVICE] [--release 26.05 [--arch x86_64|aarch64] | --image FILE --sha256 HEX] [--yes] [--force] [--ssh-key KEY]",
  description: `
Downloads the release's official minimal installer ISO over HTTPS (channels.nixos.org), checks it
against the SHA-256 published beside it, writes it to DEVICE with a progress bar, then reads the
written range back and compares its SHA-256. A file of your own (--image) needs --sha256. A
hash mismatch writes nothing.

DEVICE must be a whole, removable disk, not mounted and not holding the running system, at least
as large as the image; you type its name to confirm (or pass --yes). --force accepts a disk that
does not report itself removable or that has a mounted filesystem; nothing overrides the other two.

--ssh-key: the stock image cannot take a key without being rebuilt (docs/usb.md), so the key is
checked and the two commands to type at the booted installer's console are printed instead.

Without DEVICE: lists the removable disks (size, model, /dev/disk/by-id name) and exits.

Examples:
  nixnode-install usb
  nixnode-install usb /dev/disk/by-id/usb-SanDisk_Ultra_1234-0:0
  nixnode-install usb /dev/sdb --image ./nixos-minimal.iso --sha256 <64 hex digits>`,
  options: {
    image: {
      type: "string",
      value: "FILE",
      path: "file-in",
      help: "write this ISO instead of downloading (needs --sha256)",
    },
    release: {
      type: "string",
      value: "VERSION",
      help: "NixOS release whose official minimal ISO to download (default: current)",
    },
    arch: { type: "string", value: "ARCH", help: "x86_64 or aarch64 (default: this machine's)" },
    sha256: {
      type: "string",
      value: "HEX",
      help: "the image's SHA-256 (required with --image; checked with a download)",
    },
    mirror: {
      type: "string",
      value: "URL",
      help: "base URL with channels.nixos.org's layout (a mirror; tests use a local server)",
    },
    yes: { type: "boolean", short: "y", help: "do not ask to type the device name" },
    force: { type: "boolean", help: "write a disk that is not reported removable or has a mounted filesystem" },
    "ssh-key": {
      type: "string",
      value: "KEY",
      help: "print the two console commands that let this key (line or .pub file) in over SSH",
    },
  },
  maxArgs: 1,
  async run(ctx) {
    return runUsb(
      {
        device: ctx.args[0],
        image: str(ctx.options.image),
        release: str(ctx.options.release),
        arch: str(ctx.options.arch),
        sha256: str(ctx.options.sha256),
        mirror: str(ctx.options.mirror),
        sshKey: str(ctx.options["ssh-key"]),
        yes: ctx.options.yes === true,
        force: ctx.options.force === true,
      },
      { out: ctx.out, prompter: ctx.prompter, signal: ctx.signal, cwd: ctx.cwd },
      systemDeps(),
    );
  },
};
export default command;
