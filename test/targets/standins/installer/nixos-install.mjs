// TEST-ONLY stand-in for `nixos-install` inside the NixOS installer of a throwaway target. With
// `--flake <dir>#<host>` (built-in engine) it renders the installed system from the flake's host.json
// into /mnt; it refuses when disko has not run. Either way it arms the reboot hook that boots /mnt.
// The target folder comes from $NIXNODE_STANDIN_TARGET_DIR (baked into the PATH shim).
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readHostJson, writeInstalledFiles } from "../lib/installed-files.mjs";
import { installRebootHook } from "../lib/target-effects.mjs";

const args = process.argv.slice(2);
try {
  appendFileSync("/root/.nixnode-standin-installer.log", `nixos-install ${args.join(" ")}\n`);
} catch {
  // only for tests to read the order of the installer's commands
}
const dir = process.env.NIXNODE_STANDIN_TARGET_DIR;
if (!dir) {
  process.stderr.write("nixos-install (stand-in): NIXNODE_STANDIN_TARGET_DIR is not set\n");
  process.exit(1);
}
if (!existsSync("/mnt/.nixnode-disko-done")) {
  process.stderr.write("nixos-install: /mnt is not a mounted target (run disko first)\n");
  process.exit(1);
}
const i = args.indexOf("--flake");
const m = i >= 0 ? /^(.+)#([A-Za-z0-9-]+)$/.exec(args[i + 1] ?? "") : null;
if (!m) {
  process.stderr.write(`nixos-install (stand-in): expected --flake <dir>#<host>, got: ${args.join(" ")}\n`);
  process.exit(1);
}
if (!args.includes("--no-root-passwd")) {
  process.stderr.write("nixos-install (stand-in): would prompt for a root password (no --no-root-passwd)\n");
  process.exit(1);
}
let host;
try {
  host = readHostJson(m[1], m[2]);
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
if (!existsSync("/mnt/etc/ssh/ssh_host_ed25519_key"))
  process.stderr.write("warning: no /mnt/etc/ssh/ssh_host_ed25519_key: sshd will generate its own host key\n");
writeInstalledFiles("/mnt", host);
const t = JSON.parse(readFileSync(join(dir, "target.json"), "utf8"));
const fault = existsSync(join(dir, "standin-fault")) ? readFileSync(join(dir, "standin-fault"), "utf8").trim() : "";
installRebootHook({ ...t, dir }, join(dir, "standin-mnt"), fault);
process.stdout.write("installation finished!\n");
