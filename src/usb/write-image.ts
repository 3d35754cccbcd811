// Copies the verified image onto the whole disk, then reads the written range back and compares its
// SHA-256 with the image's. Writes are synced every SYNC_EVERY bytes, so the progress bar shows what
// reached the stick rather than the page cache, and a pulled stick fails at the next sync, not at
// the end. The read-back comes after the kernel's buffers for the device are dropped (BLKFLSBUF via
// blockdev --flushbufs), so it reads the stick, not what was just written to memory.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { promisify } from "node:util";
import { CancelledError, OperationError } from "../errors";
import { humanBytes } from "./human-size";
import type { Progress } from "./image-source";

const CHUNK = 4 << 20;
const SYNC_EVERY = 64 << 20;

export interface WriteOptions {
  image: string;
  imageBytes: number;
  imageSha256: string;
  device: string;
  /** Open the device O_EXCL: the kernel then refuses it while anything has it mounted. */
  exclusive: boolean;
  signal: AbortSignal;
  onWrite?: Progress;
  onVerify?: Progress;
  /** How to run the command again, for the "not bootable" message. */
  rerun: string;
}

function notBootable(o: WriteOptions, written: number): string {
  return `${o.device} is NOT bootable now: ${humanBytes(written)} of ${humanBytes(o.imageBytes)} were written.`;
}

export async function writeAndVerify(o: WriteOptions): Promise<{ written: number; readBackSha256: string }> {
  const src = await open(o.image, "r");
  let dst: FileHandle;
  try {
    dst = await open(o.device, constants.O_WRONLY | (o.exclusive ? constants.O_EXCL : 0));
  } catch (e) {
    await src.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new OperationError(`cannot open ${o.device} for writing (${code ?? (e as Error).message})`, {
      hint:
        code === "EBUSY"
          ? "something holds it (mounted, in a RAID or LVM); unmount it and run the command again; nothing was written"
          : "nothing was written; check the device and run the command again as root",
    });
  }
  let written = 0;
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let sinceSync = 0;
    while (written < o.imageBytes) {
      if (o.signal.aborted)
        throw new CancelledError(`Interrupted. ${notBootable(o, written)}`, {
          hint: `run the command again to write the whole image: ${o.rerun}`,
        });
      const { bytesRead } = await src.read(buf, 0, Math.min(CHUNK, o.imageBytes - written), written);
      if (bytesRead === 0) throw new OperationError(`${o.image} ended early at ${written} bytes (did it change?)`);
      let off = 0;
      while (off < bytesRead) {
        const { bytesWritten } = await dst.write(buf, off, bytesRead - off, written + off);
        off += bytesWritten;
      }
      written += bytesRead;
      sinceSync += bytesRead;
      if (sinceSync >= SYNC_EVERY || written === o.imageBytes) {
        await dst.datasync();
        sinceSync = 0;
      }
      o.onWrite?.(written, o.imageBytes);
    }
  } catch (e) {
    if (e instanceof CancelledError || e instanceof OperationError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new OperationError(`writing ${o.device} failed: ${err.code ?? ""} ${err.message}`.trim(), {
      details: [notBootable(o, written)],
      hint: `check or replace the stick (dmesg names the I/O error), then run the command again: ${o.rerun}`,
    });
  } finally {
    await dst.close().catch(() => undefined);
    await src.close();
  }
  await promisify(execFile)("blockdev", ["--flushbufs", o.device]).catch(() => undefined);
  const readBackSha256 = await hashRange(o.device, o.imageBytes, o.signal, o.onVerify);
  if (readBackSha256 !== o.imageSha256)
    throw new OperationError(`${o.device} does not read back as written: the stick is faulty or was changed`, {
      details: [`image ${o.imageSha256}`, `read back ${readBackSha256}`],
      hint: `do not boot from it; try another stick (or run the command again): ${o.rerun}`,
    });
  return { written, readBackSha256 };
}

/** SHA-256 of the first `bytes` bytes of a file or device. */
export async function hashRange(
  path: string,
  bytes: number,
  signal: AbortSignal,
  progress?: Progress,
): Promise<string> {
  const fh = await open(path, "r");
  const h = createHash("sha256");
  const buf = Buffer.allocUnsafe(CHUNK);
  let done = 0;
  try {
    while (done < bytes) {
      if (signal.aborted)
        throw new CancelledError("Interrupted while reading the stick back; the image itself was written in full.", {
          hint: "run the command again to verify it before you rely on it",
        });
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, bytes - done), done);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      done += bytesRead;
      progress?.(done, bytes);
    }
  } finally {
    await fh.close();
  }
  return h.digest("hex");
}
