// Paths the operator names on the command line, checked before anything happens (no packet, no
// file written): a file where a folder is wanted, a dangling symlink, no permission, /proc. Each
// refusal is a UserError naming the flag, so every such mistake is exit 2 with the fix.
import { accessSync, constants, lstatSync, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { badField } from "../errors";

/** Kernel pseudo-filesystems: nothing the tool reads or writes belongs there. */
const VIRTUAL = ["/proc", "/sys", "/dev"];

function statOrNull(p: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(p) : lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
}

function can(p: string, mode: number): boolean {
  try {
    accessSync(p, mode);
    return true;
  } catch {
    return false;
  }
}

function common(path: string, flag: string, cwd: string, home: string | undefined): string {
  if (path.trim() === "") throw badField(flag, "is empty", `give a path after ${flag}`);
  if (/[\0\n\r]/.test(path))
    throw badField(flag, `${JSON.stringify(path)} contains a control character`, "give a plain path");
  const expanded = home && (path === "~" || path.startsWith("~/")) ? home + path.slice(1) : path;
  const abs = resolve(cwd, expanded);
  const top = VIRTUAL.find((v) => abs === v || abs.startsWith(`${v}/`));
  if (top) throw badField(flag, `${path} is inside ${top}, a kernel pseudo-filesystem`, "give a path on a real disk");
  let stat: Stats | null;
  try {
    stat = statOrNull(abs, false);
  } catch (e) {
    throw badField(
      flag,
      `cannot look at ${path} (${(e as NodeJS.ErrnoException).code ?? e})`,
      "check the path and its permissions",
    );
  }
  if (stat?.isSymbolicLink() && statOrNull(abs, true) === null)
    throw badField(
      flag,
      `${path} is a symlink to something that does not exist`,
      "remove the link or point it at a real path",
    );
  return abs;
}

/** The nearest existing ancestor of a path that does not exist yet: it must be a writable folder. */
function checkCreatable(abs: string, path: string, flag: string): void {
  let parent = dirname(abs);
  for (;;) {
    const s = statOrNull(parent, true);
    if (s) {
      if (!s.isDirectory())
        throw badField(flag, `${path} cannot be created: ${parent} is a file, not a folder`, "give a path in a folder");
      if (!can(parent, constants.W_OK | constants.X_OK))
        throw badField(
          flag,
          `${path} cannot be created: no permission to write in ${parent}`,
          "give a folder you can write to",
        );
      return;
    }
    if (dirname(parent) === parent) return;
    parent = dirname(parent);
  }
}

export interface PathContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** A folder the tool writes into (created when missing): --out, --log-dir, --flake when generating. */
export function writableDir(path: string, flag: string, ctx: PathContext): string {
  const abs = common(path, flag, ctx.cwd, ctx.env.HOME);
  const s = statOrNull(abs, true);
  if (!s) {
    checkCreatable(abs, path, flag);
    return abs;
  }
  if (!s.isDirectory()) throw badField(flag, `${path} is a file, not a folder`, "give a folder path (new or existing)");
  if (!can(abs, constants.R_OK | constants.W_OK | constants.X_OK))
    throw badField(flag, `no permission to write in ${path}`, "give a folder you own, or fix its permissions");
  return abs;
}

/** A folder the tool reads (an existing flake): --flake for lockdown, secrets and install. */
export function readableDir(path: string, flag: string, ctx: PathContext): string {
  const abs = common(path, flag, ctx.cwd, ctx.env.HOME);
  const s = statOrNull(abs, true);
  if (!s) throw badField(flag, `${path} does not exist`, "give the folder `nixnode-install plan` wrote");
  if (!s.isDirectory())
    throw badField(flag, `${path} is a file, not a folder`, "give the flake's folder, not a file in it");
  if (!can(abs, constants.R_OK | constants.X_OK))
    throw badField(flag, `no permission to read ${path}`, "run as the user who owns the flake, or fix its permissions");
  return abs;
}

/** A file the tool only reads: --ssh-config, -i, --config, --password-file, --facts. */
export function readableFile(path: string, flag: string, ctx: PathContext): string {
  if (/^\/dev\/(stdin|fd\/\d+)$/.test(path)) return path; // `--config <(...)`: a pipe is fine to read
  const abs = common(path, flag, ctx.cwd, ctx.env.HOME);
  const s = statOrNull(abs, true);
  if (!s)
    throw badField(flag, `cannot read ${path}: it does not exist`, `give the path of an existing file after ${flag}`);
  if (s.isDirectory())
    throw badField(flag, `cannot read ${path}: it is a folder, not a file`, `give a file path after ${flag}`);
  if (!s.isFile())
    throw badField(flag, `cannot read ${path}: it is not a regular file`, `give a regular file after ${flag}`);
  if (!can(abs, constants.R_OK))
    throw badField(flag, `cannot read ${path}: no permission`, "fix its permissions, or run as its owner");
  return abs;
}

/** A file the tool reads and appends to, created when missing: --known-hosts. */
export function updatableFile(path: string, flag: string, ctx: PathContext): string {
  const abs = common(path, flag, ctx.cwd, ctx.env.HOME);
  const s = statOrNull(abs, true);
  if (!s) {
    checkCreatable(abs, path, flag);
    return abs;
  }
  if (s.isDirectory()) throw badField(flag, `${path} is a folder, not a file`, `give a file path after ${flag}`);
  if (!s.isFile()) throw badField(flag, `${path} is not a regular file`, `give a regular file after ${flag}`);
  if (!can(abs, constants.R_OK | constants.W_OK))
    throw badField(flag, `no permission to read and write ${path}`, "fix its permissions, or give another file");
  return abs;
}

/** A file the tool writes (replaced when present) in an existing folder: detect --save. */
export function writableFile(path: string, flag: string, ctx: PathContext): string {
  const abs = common(path, flag, ctx.cwd, ctx.env.HOME);
  const s = statOrNull(abs, true);
  if (s) {
    if (s.isDirectory()) throw badField(flag, `${path} is a folder, not a file`, `give a file path after ${flag}`);
    if (!s.isFile()) throw badField(flag, `${path} is not a regular file`, `give a regular file after ${flag}`);
    if (!can(abs, constants.W_OK)) throw badField(flag, `no permission to write ${path}`, "give a file you can write");
    return abs;
  }
  const parent = statOrNull(dirname(abs), true);
  if (!parent)
    throw badField(
      flag,
      `the folder ${dirname(abs)} does not exist`,
      "create it first, or give a path in an existing folder",
    );
  if (!parent.isDirectory()) throw badField(flag, `${dirname(abs)} is a file, not a folder`, "give a path in a folder");
  if (!can(dirname(abs), constants.W_OK | constants.X_OK))
    throw badField(flag, `no permission to write in ${dirname(abs)}`, "give a folder you can write to");
  return abs;
}

/** How a path option is used; main.ts checks every declared one before the command runs. */
export type PathUse = "dir-out" | "dir-in" | "file-in" | "file-out" | "file-update";

const CHECKS: Record<PathUse, (path: string, flag: string, ctx: PathContext) => string> = {
  "dir-out": writableDir,
  "dir-in": readableDir,
  "file-in": readableFile,
  "file-out": writableFile,
  "file-update": updatableFile,
};

/** "-" (stdin/stdout) is not a path. */
export function checkPathOption(use: PathUse, value: string, flag: string, ctx: PathContext): void {
  if (value === "-" && (use === "file-in" || use === "file-out")) return;
  CHECKS[use](value, flag, ctx);
}
