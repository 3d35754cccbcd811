// What the install does to a throwaway target (test/targets), applied from outside through
// test/targets/enter.sh: the kexec installer (installer os-release, same host key, a reboot), the
// installed NixOS (the pinned host key from the extra files, NixOS os-release, root's
// authorized_keys = host.json's keys ONLY, the planned hostname) made effective by a reboot hook.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeInstalledFiles } from "./installed-files.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ENTER = join(HERE, "../../enter.sh");
export const APPLY_INSTALLED = join(HERE, "../apply-installed-system.sh");
export const NIXOS_SHIM = join(HERE, "../../personalities/nixos/nixos-shim.mjs");

/** Finds a target by address and port among target.json files: $NIXNODE_STANDIN_TARGETS lists target dirs or their parents. */
export function findTarget(host, port) {
  const roots = (process.env.NIXNODE_STANDIN_TARGETS ?? "").split(":").filter(Boolean);
  const candidates = [];
  for (const r of roots) {
    if (existsSync(join(r, "target.json"))) candidates.push(r);
    else if (existsSync(r))
      for (const d of readdirSync(r)) if (existsSync(join(r, d, "target.json"))) candidates.push(join(r, d));
  }
  for (const dir of candidates) {
    const t = JSON.parse(readFileSync(join(dir, "target.json"), "utf8"));
    if (t.address === host) return { ...t, dir: t.dir ?? dir, port: port ?? t.port };
  }
  return null;
}

export function enter(t, args, input) {
  return execFileSync(ENTER, [t.dir, ...args], { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

export function readOsRelease(t) {
  const text = enter(t, ["cat", "/etc/os-release"]);
  const kv = Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => {
        const i = l.indexOf("=");
        return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, "")];
      }),
  );
  return kv;
}

export function isInstaller(t) {
  const os = readOsRelease(t);
  return os.ID === "nixos" && os.VARIANT_ID === "installer";
}

/**
 * The kexec installer: NixOS installer os-release, nixos-install (and nix) on PATH, a private /mnt
 * (<dir>/standin-mnt bound over it inside the target) — host keys and authorized_keys preserved.
 */
export function becomeInstaller(t) {
  enter(
    t,
    ["sh", "-c", "rm -f /etc/os-release && cat > /etc/os-release"],
    'NAME=NixOS\nID=nixos\nVERSION_ID="25.11"\nPRETTY_NAME="NixOS 25.11 (Xantusia)"\nVARIANT_ID=installer\n',
  );
  bindInstallerMnt(t);
  const node = JSON.stringify(process.execPath);
  const shims = {
    "nixos-install": `NIXNODE_STANDIN_TARGET_DIR=${JSON.stringify(t.dir)} exec ${node} ${JSON.stringify(join(HERE, "../installer/nixos-install.mjs"))} "$@"`,
    nix: `exec ${node} ${JSON.stringify(join(HERE, "../installer/nix.mjs"))} "$@"`,
    reboot: `exec ${JSON.stringify(join(t.dir, "reboot"))}`,
  };
  for (const [name, line] of Object.entries(shims)) {
    const shim = join(t.shimDir, name);
    writeFileSync(
      shim,
      `#!/bin/sh\n# nixnode-standin-installer: the NixOS installer's ${name} (see test/targets/standins/installer)\n${line}\n`,
    );
    chmodSync(shim, 0o755);
  }
}

/** The target's /mnt becomes <dir>/standin-mnt (never the host's /mnt); idempotent. */
export function bindInstallerMnt(t) {
  const mnt = join(t.dir, "standin-mnt");
  mkdirSync(mnt, { recursive: true });
  // the marker is written on the host side: inside the target it only shows once the bind is in place
  writeFileSync(join(mnt, ".nixnode-standin-mnt"), "");
  enter(t, ["sh", "-c", `[ -f /mnt/.nixnode-standin-mnt ] || mount --bind ${JSON.stringify(mnt)} /mnt`]);
}

/**
 * Stages the installed system in <dir>/standin-mnt (the target's /mnt): the extra files and the
 * files rendered from host.json, plus a reboot.d hook that boots them at the next reboot.
 */
export function stageInstalledSystem(t, { extraFilesDir, host, fault }) {
  const mnt = join(t.dir, "standin-mnt");
  mkdirSync(mnt, { recursive: true });
  if (extraFilesDir) execFileSync("cp", ["-a", `${extraFilesDir}/.`, mnt]);
  writeInstalledFiles(mnt, host);
  installRebootHook(t, mnt, fault);
}

export function installRebootHook(t, mnt, fault) {
  const hooks = join(t.dir, "reboot.d");
  mkdirSync(hooks, { recursive: true });
  const hook = join(hooks, "10-nixnode-installed-system");
  // the installed system gets H6's `nixos` personality (activation stand-ins applying host.json), so
  // that lockdown can run against it as against a real NixOS
  const env = `NIXNODE_NODE=${JSON.stringify(process.execPath)} NIXNODE_NIXOS_SHIM=${JSON.stringify(NIXOS_SHIM)}`;
  writeFileSync(
    hook,
    `#!/bin/sh\n${env} exec /bin/sh ${JSON.stringify(APPLY_INSTALLED)} ${JSON.stringify(t.dir)} ${JSON.stringify(mnt)} ${JSON.stringify(fault ?? "")}\n`,
  );
  chmodSync(hook, 0o755);
}

/** Reboots the target the way `sleep 6 && reboot` does: detached, after the caller's session ends. */
export function rebootSoon(t, delaySec = 1) {
  const child = spawn(
    ENTER,
    [
      t.dir,
      "setsid",
      "sh",
      "-c",
      `sleep ${delaySec}; exec ${JSON.stringify(join(t.dir, "reboot"))} >>${JSON.stringify(join(t.dir, "standin-reboot.log"))} 2>&1`,
    ],
    { detached: true, stdio: "ignore" },
  );
  child.unref();
}

/** Resolves true when a TCP connection to host:port succeeds within timeoutMs. */
export function tcpAnswers(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: timeoutMs });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.once("connect", () => done(true));
    s.once("timeout", () => done(false));
    s.once("error", () => done(false));
  });
}

export async function waitFor(pred, { timeoutMs, intervalMs = 250 }) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}
