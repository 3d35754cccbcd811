// Shared by the nixos personality's stand-ins (see ../nixos-shim.mjs): the target folder, the
// NixOS paths the stand-ins emulate, and small process/file helpers.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const SHIM = fileURLToPath(new URL("../nixos-shim.mjs", import.meta.url));
export const NODE = process.execPath;
export const DIR = process.argv[2];
export const PROFILES = "/nix/var/nix/profiles";
export const PROFILE = `${PROFILES}/system`;
export const LOCK = "/run/nixos/switch-to-configuration.lock";
export const UNITS = join(DIR, "units");
export const F2B = join(DIR, "fail2ban");
export const KNOBS = join(DIR, "nixos-test");

export const run = (file, argv, opts = {}) => {
  const r = spawnSync(file, argv, { encoding: "utf8", ...opts });
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
};
export const die = (msg, code = 1) => {
  process.stderr.write(msg.endsWith("\n") ? msg : msg + "\n");
  process.exit(code);
};
export const readText = (p, dflt = "") => (existsSync(p) ? readFileSync(p, "utf8") : dflt);
export const relink = (target, link) => {
  const tmp = `${link}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
};
