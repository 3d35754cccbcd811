// The one way this tool replaces a file: write a sibling temporary file, fsync it, rename it over the
// target. A reader (another nixnode-install, Nix, the operator's editor) sees the old file or the new
// one, never half of either; a crash leaves at most a `.<name>.nixnode-tmp-*` file beside it.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface WriteAtomicOptions {
  /** File mode of the new file (default 0o644); 0o600 for anything secret. */
  mode?: number;
}

export function writeAtomic(path: string, data: string | Uint8Array, opts: WriteAtomicOptions = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.nixnode-tmp-${process.pid}-${Date.now()}`);
  // O_EXCL: never follow or reuse something another user placed at the temporary name
  const fd = openSync(tmp, "wx", opts.mode ?? 0o644);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
