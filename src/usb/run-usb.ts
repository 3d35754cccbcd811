// `usb`: every flag checked, the disk judged, the image's SHA-256 proved, the operator's typed
// confirmation, and only then the write (then the read-back). Any refusal before the write leaves the
// disk exactly as it was; the disk is re-read just before it is opened (a desktop may have automounted
// it while the image downloaded).
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CancelledError, OperationError, UserError, badField } from "../errors";
import {
  DEFAULT_NIXOS_RELEASE,
  ISO_ARCHES,
  NIXOS_CHANNELS_URL,
  NIXOS_RELEASES,
  findRelease,
  type IsoArch,
} from "../plan/releases";
import { parsePublicKey, type ParsedPublicKey } from "../plan/ssh-public-key";
import type { Output } from "../ui/output";
import type { Prompter } from "../ui/prompter";
import { shellQuote } from "../util/shell-quote";
import { candidateDisks, readDisk, type DiskFacts, type UsbDeps } from "./block-devices";
import { consoleKeyAdvice, formatConsoleKeyAdvice } from "./console-key-commands";
import { blocking, refusals } from "./device-refusals";
import { humanBytes } from "./human-size";
import { download, hashFile, parseMirror, parseSha256, publishedHash } from "./image-source";
import { progressBar } from "./progress-bar";
import { writeAndVerify } from "./write-image";

export interface UsbRequest {
  device?: string;
  image?: string;
  release?: string;
  arch?: string;
  sha256?: string;
  mirror?: string;
  sshKey?: string;
  yes: boolean;
  force: boolean;
}

export interface UsbIO {
  out: Output;
  prompter: Prompter;
  signal: AbortSignal;
  cwd: string;
}

interface Checked {
  source: { kind: "file"; path: string } | { kind: "download"; release: string; arch: IsoArch; mirror: string };
  sha256?: string;
  key?: ParsedPublicKey;
}

function hostArch(): IsoArch {
  return process.arch === "arm64" ? "aarch64" : "x86_64";
}

/** Every flag, before any disk or network is touched. */
export function checkRequest(r: UsbRequest, cwd: string): Checked {
  if (r.image !== undefined && r.release !== undefined)
    throw badField(
      "--release",
      "cannot be combined with --image",
      "write either a file you have (--image) or a release's official ISO (--release)",
    );
  if (r.image !== undefined && r.arch !== undefined)
    throw badField(
      "--arch",
      "only picks which official ISO to download; it has no meaning with --image",
      "leave --arch out, or drop --image",
    );
  if (r.image !== undefined && r.mirror !== undefined)
    throw badField(
      "--mirror",
      "only applies to a download; it has no meaning with --image",
      "leave --mirror out, or drop --image",
    );
  if (r.arch !== undefined && !(ISO_ARCHES as readonly string[]).includes(r.arch))
    throw badField(
      "--arch",
      `"${r.arch}" is not one of ${ISO_ARCHES.join(", ")}`,
      "the machine's CPU: x86_64 (Intel/AMD) or aarch64 (ARM)",
    );
  const release = r.release ?? DEFAULT_NIXOS_RELEASE;
  if (!findRelease(release))
    throw badField(
      "--release",
      `"${release}" is not a release this tool knows`,
      `one of ${NIXOS_RELEASES.map((x) => x.version).join(", ")}`,
    );
  const sha256 = r.sha256 === undefined ? undefined : parseSha256(r.sha256, "--sha256");
  const mirror = r.mirror === undefined ? NIXOS_CHANNELS_URL : parseMirror(r.mirror);
  let key: ParsedPublicKey | undefined;
  if (r.sshKey !== undefined) {
    const asPath = join(r.sshKey.startsWith("/") ? "" : cwd, r.sshKey);
    const isFile = !r.sshKey.includes(" ") && existsSync(asPath) && statSync(asPath).isFile();
    if (!isFile && !r.sshKey.includes(" ") && /(^[~.]?\/|\.pub$)/.test(r.sshKey))
      throw badField(
        "--ssh-key",
        `${r.sshKey} is not a file here`,
        "give the path of your .pub file, or the key line itself in quotes",
      );
    key = parsePublicKey(isFile ? readFileSync(asPath, "utf8").trim() : r.sshKey, "--ssh-key");
  }
  if (r.image !== undefined) {
    if (!sha256)
      throw badField(
        "--sha256",
        "is required with --image: no image hashes ship with this tool (the official ISOs change with every build)",
        "add --sha256 HEX from the .sha256 file published beside the image, or drop --image to download and check the official one",
      );
    const path = join(r.image.startsWith("/") ? "" : cwd, r.image);
    if (!existsSync(path) || !statSync(path).isFile() || statSync(path).size === 0)
      throw badField("--image", `${r.image} is not a non-empty regular file`, "give the path of the downloaded .iso");
    return { source: { kind: "file", path }, sha256, key };
  }
  return { source: { kind: "download", release, arch: (r.arch as IsoArch) ?? hostArch(), mirror }, sha256, key };
}

/** DEVICE: an existing block device (a /dev/disk/by-id link is followed), a whole disk. */
export function checkDevice(device: string): string {
  if (!existsSync(device))
    throw badField(
      "DEVICE",
      `${device} does not exist`,
      "run `nixnode-install usb` without a device to list the candidates",
    );
  const real = realpathSync(device);
  if (!statSync(real).isBlockDevice())
    throw badField(
      "DEVICE",
      `${device} is not a block device`,
      "give a whole disk such as /dev/sdX or /dev/disk/by-id/usb-…",
    );
  return real;
}

function describe(d: DiskFacts): string {
  return `${d.path} (${[humanBytes(d.sizeBytes), d.model, d.transport].filter(Boolean).join(", ")})`;
}

function refuseDisk(d: DiskFacts, imageBytes: number, force: boolean): void {
  if (d.type === "part")
    throw badField(
      "DEVICE",
      `${d.path} is a partition, not a whole disk`,
      "give the disk itself (e.g. /dev/sdb, not /dev/sdb1)",
    );
  const left = blocking(refusals(d, imageBytes), force);
  if (!left.length) return;
  const forceable = left.every((x) => x.forceable);
  throw new UserError(`refusing to write ${d.path}: ${left.map((x) => x.reason).join("; ")}`, {
    field: "DEVICE",
    hint: forceable
      ? "check it is the stick you mean (nixnode-install usb lists removable disks); --force writes it anyway"
      : "choose another disk: nixnode-install usb lists the removable ones",
  });
}

function rerun(r: UsbRequest, device: string, c: Checked): string {
  const src =
    c.source.kind === "file"
      ? ["--image", c.source.path, "--sha256", c.sha256!]
      : ["--release", c.source.release, "--arch", c.source.arch, ...(r.mirror ? ["--mirror", c.source.mirror] : [])];
  return ["nixnode-install", "usb", device, ...src, ...(r.force ? ["--force"] : [])].map(shellQuote).join(" ");
}

async function listCandidates(io: UsbIO, deps: UsbDeps): Promise<number> {
  const disks = await candidateDisks(deps);
  const lines = disks.length
    ? [
        "Removable disks (none holds the running system):",
        ...disks.map((d) => `  ${describe(d)}${d.byId[0] ? `  ${d.byId[0]}` : ""}`),
      ]
    : ["No removable disk found. Plug in a USB stick, then run this again."];
  lines.push(
    "",
    "Write the installer: nixnode-install usb DEVICE [--release " + DEFAULT_NIXOS_RELEASE + "] (erases DEVICE)",
  );
  io.out.result(lines.join("\n"), {
    candidates: disks.map((d) => ({
      path: d.path,
      sizeBytes: d.sizeBytes,
      model: d.model,
      transport: d.transport,
      byId: d.byId,
    })),
  });
  return 0;
}

async function confirm(io: UsbIO, d: DiskFacts, image: string): Promise<void> {
  if (!io.prompter.interactive)
    throw badField(
      "--yes",
      `needed to erase ${d.path} without a terminal to confirm on`,
      "check the device, then add --yes",
    );
  io.out.info(`This ERASES everything on ${describe(d)} and writes ${image} to it.`);
  const typed = await io.prompter.text({ message: `Type ${d.name} to erase ${d.path}` });
  if (typed.trim() !== d.name && typed.trim() !== d.path)
    throw new CancelledError(`"${typed.trim()}" is not ${d.name}. Nothing was written.`);
}

/** The image on disk and its proved SHA-256; a download lands in `tmp`. Nothing touches the disk here. */
async function prepareImage(
  r: UsbRequest,
  c: Checked,
  io: UsbIO,
  tmp: () => string,
): Promise<{ image: string; imageSha: string }> {
  let image: string;
  let imageSha: string;
  if (c.source.kind === "file") {
    image = c.source.path;
    const bar = progressBar(io.out, "check", "Checking the image");
    imageSha = await hashFile(image, io.signal, bar.update);
    bar.finish();
    if (imageSha !== c.sha256)
      throw badField(
        "--sha256",
        `${r.image} has SHA-256 ${imageSha}, not ${c.sha256}; nothing was written`,
        "get the image again from its official source, or give its published hash",
      );
  } else {
    const { release, arch, mirror } = c.source;
    const pub = await publishedHash(release, arch, mirror, io.signal);
    if (c.sha256 && c.sha256 !== pub.sha256)
      throw badField(
        "--sha256",
        `${c.sha256} is not the published hash of ${pub.fileName} (${pub.sha256}); nothing was written`,
        "drop --sha256 to trust the published one, or check where your hash came from",
      );
    image = join(tmp(), pub.fileName.replace(/[^A-Za-z0-9._-]/g, "_"));
    io.out.info(`Downloading ${pub.fileName} (NixOS ${release}, ${arch}) from ${pub.isoUrl}`);
    const bar = progressBar(io.out, "download", "Downloading");
    imageSha = (await download(pub.isoUrl, image, io.signal, bar.update)).sha256;
    bar.finish();
    if (imageSha !== pub.sha256)
      throw new OperationError(`the downloaded image's SHA-256 is ${imageSha}, not the published ${pub.sha256}`, {
        hint: "nothing was written; run the command again (or use another --mirror)",
      });
  }
  return { image, imageSha };
}

export async function runUsb(r: UsbRequest, io: UsbIO, deps: UsbDeps): Promise<number> {
  const c = checkRequest(r, io.cwd);
  if (r.device === undefined) return listCandidates(io, deps);
  const device = checkDevice(r.device);
  const before = await readDisk(device, deps);
  const knownBytes = c.source.kind === "file" ? statSync(c.source.path).size : 0;
  refuseDisk(before, knownBytes, r.force);

  let tmp: string | null = null;
  const makeTmp = () => (tmp ??= mkdtempSync(join(tmpdir(), "nixnode-usb-")));
  try {
    const { image, imageSha } = await prepareImage(r, c, io, makeTmp).catch((e: unknown) => {
      // an abort surfaces from fetch and streams as a bare AbortError: say what it means here
      if (io.signal.aborted && !(e instanceof CancelledError))
        throw new CancelledError("Interrupted before anything was written; the disk is unchanged.");
      throw e;
    });
    const imageBytes = statSync(image).size;
    io.out.info(`Image verified: SHA-256 ${imageSha} (${humanBytes(imageBytes)})`);
    refuseDisk(before, imageBytes, r.force);
    if (!r.yes) await confirm(io, before, image);
    const now = await readDisk(device, deps);
    refuseDisk(now, imageBytes, r.force);

    const w = progressBar(io.out, "write", "Writing ");
    const v = progressBar(io.out, "verify", "Verifying");
    const done = await writeAndVerify({
      image,
      imageBytes,
      imageSha256: imageSha,
      device,
      exclusive: !r.force,
      signal: io.signal,
      onWrite: (a, b) => w.update(a, b),
      onVerify: (a, b) => {
        w.finish();
        v.update(a, b);
      },
      rerun: rerun(r, r.device, c),
    });
    v.finish();
    const advice = c.key ? consoleKeyAdvice(c.key) : null;
    io.out.result(
      [
        `Wrote ${humanBytes(done.written)} to ${describe(now)} and read it back: verified (SHA-256 ${done.readBackSha256}).`,
        'Boot the machine from it; the installer logs in as "nixos" on the console.',
        ...(advice && c.key ? formatConsoleKeyAdvice(advice, c.key.fingerprint) : []),
      ].join("\n"),
      {
        device: now.path,
        image,
        sha256: imageSha,
        bytes: done.written,
        verified: true,
        ...(advice && c.key ? { sshKey: { fingerprint: c.key.fingerprint, ...advice } } : {}),
      },
    );
    return 0;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
