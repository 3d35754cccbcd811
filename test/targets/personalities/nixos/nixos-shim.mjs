// TEST-ONLY stand-in for the NixOS activation surface of a throwaway target. It runs INSIDE the
// target (via the sh wrappers in the target's shim dir, first on sshd's PATH) and applies the
// tool's own data (host.json) FOR REAL: the target's real sshd gets the ports and auth settings,
// the real fail2ban the jail and ignore list, the target's iptables the firewall.
//   node nixos-shim.mjs DIR setup [host.json]     install the personality (generation 1)
//   node nixos-shim.mjs DIR nix build ...          `nix build --print-out-paths path:F#nixosConfigurations.H.config.system.build.toplevel`
//   node nixos-shim.mjs DIR stc TOPLEVEL ACTION    a toplevel's bin/switch-to-configuration (under the switch lock)
//   node nixos-shim.mjs DIR nix-env|systemd-run|systemctl|nixos-version ...
//   node nixos-shim.mjs DIR boot                   reboot.d hook: activate the boot default
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DIR, KNOBS, NODE, SHIM, UNITS, die, readText, relink, run } from "./lib/common.mjs";
import { apply, boot, stc } from "./lib/activate.mjs";
import { initialHostData } from "./lib/desired.mjs";
import { makeToplevel, nixBuild, nixEnv, setProfile } from "./lib/store.mjs";
import { systemctl, systemdRun } from "./lib/units.mjs";

const [, cmd, ...args] = process.argv.slice(2);

// ---------------------------------------------------------------- setup
function setup(hostJsonPath) {
  const marker = "/nix/.nixnode-test-personality";
  if (!existsSync(marker)) {
    mkdirSync(join(DIR, "nix/store"), { recursive: true });
    mkdirSync(join(DIR, "nix/var/nix/profiles"), { recursive: true });
    writeFileSync(join(DIR, "nix/.nixnode-test-personality"), DIR + "\n");
    mkdirSync("/nix", { recursive: true });
    const m = run("mount", ["--bind", join(DIR, "nix"), "/nix"]);
    if (m.code !== 0) die(`mount /nix: ${m.stderr}`);
  }
  // its own /var/lib, as a separate machine has: the tool unpacks the flake under
  // /var/lib/nixnode-install, and targets running side by side must not share that folder
  if (!existsSync("/var/lib/.nixnode-test-private")) {
    mkdirSync(join(DIR, "var-lib"), { recursive: true });
    writeFileSync(join(DIR, "var-lib/.nixnode-test-private"), "");
    const m = run("mount", ["--bind", join(DIR, "var-lib"), "/var/lib"]);
    if (m.code !== 0) die(`mount /var/lib: ${m.stderr}`);
  }
  mkdirSync(KNOBS, { recursive: true });
  mkdirSync(UNITS, { recursive: true });
  mkdirSync("/run/nixos", { recursive: true });
  if (!existsSync(join(DIR, "nixos-sshd_config.base")))
    cpSync("/etc/ssh/sshd_config", join(DIR, "nixos-sshd_config.base"));
  // rm first: on the host /etc/os-release is a symlink into /usr/lib, which the target does not own
  rmSync("/etc/os-release", { force: true });
  writeFileSync(
    "/etc/os-release",
    'ANSI_COLOR="0;38;2;126;186;228"\nBUILD_ID="25.11.20251120.1a2b3c4"\nID=nixos\nNAME=NixOS\nPRETTY_NAME="NixOS 25.11 (Xantusia)"\nVERSION="25.11 (Xantusia)"\nVERSION_CODENAME=xantusia\nVERSION_ID="25.11"\n',
  );
  writeFileSync("/etc/NIXOS", "");
  // A target has no route to a name server: let lookups fail at once on loopback instead of
  // timing out (fail2ban's ignoreself and reverse lookups would stall its filter for 10 s each)
  rmSync("/etc/resolv.conf", { force: true });
  writeFileSync("/etc/resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  // NixOS maps its own host name in /etc/hosts (networking.hosts); without it fail2ban's ignoreself
  // resolves the name through DNS, which a target cannot reach, and its filter stalls for seconds
  const hostname = run("hostname", []).stdout.trim();
  if (hostname && !readText("/etc/hosts").includes(` ${hostname}`))
    writeFileSync("/etc/hosts", `${readText("/etc/hosts")}127.0.0.2 ${hostname}\n::1 ${hostname}\n`);
  const shimDir = "/usr/local/sbin";
  for (const name of ["nix", "nix-env", "systemd-run", "systemctl", "nixos-version"]) {
    writeFileSync(join(shimDir, name), `#!/bin/sh\nexec '${NODE}' '${SHIM}' '${DIR}' ${name} "$@"\n`);
    chmodSync(join(shimDir, name), 0o755);
  }
  mkdirSync(join(DIR, "reboot.d"), { recursive: true });
  writeFileSync(join(DIR, "reboot.d/50-nixos-boot-default"), `#!/bin/sh\nexec '${NODE}' '${SHIM}' '${DIR}' boot\n`);
  chmodSync(join(DIR, "reboot.d/50-nixos-boot-default"), 0o755);
  const host = hostJsonPath
    ? JSON.parse(readFileSync(hostJsonPath, "utf8"))
    : initialHostData(readFileSync(join(DIR, "nixos-sshd_config.base"), "utf8"), run("hostname", []).stdout.trim());
  const lockdownNix = hostJsonPath ? readText(join(dirname(hostJsonPath), "lockdown.nix"), null) : null;
  const top = makeToplevel(host, "", lockdownNix);
  setProfile(top);
  const r = apply(top, { restartSshd: false }); // the harness (or the reboot) starts sshd next
  relink(top, "/run/booted-system");
  if (r.failed.length) die(`setup: units failed: ${r.failed.join(" ")}`, 4);
  process.stdout.write(`${top}\n`);
}

// ---------------------------------------------------------------- dispatch
switch (cmd) {
  case "setup":
    setup(args[0]);
    break;
  case "nix":
    nixBuild(args);
    break;
  case "nix-env":
    nixEnv(args);
    break;
  case "stc":
    stc(args[0], args[1]);
    break;
  case "boot":
    boot();
    break;
  case "systemd-run":
    systemdRun(args);
    break;
  case "systemctl":
    systemctl(args);
    break;
  case "nixos-version":
    process.stdout.write(readText("/run/current-system/nixos-version", "25.11 (Xantusia)\n"));
    break;
  default:
    die(`nixos-shim: unknown command ${cmd} (dir ${DIR})`);
}
