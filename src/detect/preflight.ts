// The preflight verdict: every fact that decides whether an install can even start, checked before
// anything destructive. nixos-anywhere itself only checks the architecture; the rest are the
// reasons its users lose a box half-way (kexec OOM, Secure Boot, Xen PV, containers — see
// shared/research/nixos-anywhere.md). Pure: Facts in, verdict out. Unknown (null) values warn.
import { providerById } from "../facts/providers";
import type { Facts } from "../facts/types";
import { CONTAINER_KINDS } from "../facts/types";

export type PreflightCheckId =
  "container" | "arch" | "memory" | "secure-boot" | "kernel-lockdown" | "xen-pv" | "access" | "tools" | "disk";

export interface PreflightCheck {
  id: PreflightCheckId;
  status: "pass" | "warn" | "fail";
  message: string;
  fix?: string;
}

export interface PreflightVerdict {
  ok: boolean;
  checks: PreflightCheck[];
}

export interface PreflightOptions {
  /** Running on the machine itself (`--local` from a NixOS installer): no kexec will happen. */
  local?: boolean;
}

const GiB = 1024 ** 3;
/** The kexec installer unpacks into RAM; below this it is killed by the OOM killer. */
export const MIN_MEMORY_BYTES = 1 * GiB;
export const ADVISED_MEMORY_BYTES = 1.5 * GiB;
export const MIN_DISK_BYTES = 8 * GiB;

export function preflight(facts: Facts, opts: PreflightOptions = {}): PreflightVerdict {
  // kexec is what most checks guard; it is skipped when we already run a NixOS installer.
  const kexec = !opts.local && !facts.os.isNixosInstaller;
  const checks = [
    checkContainer(facts),
    checkArch(facts),
    checkMemory(facts, kexec),
    checkSecureBoot(facts),
    checkLockdown(facts, kexec),
    checkXenPv(facts),
    checkAccess(facts, opts),
    checkTools(facts, kexec),
    checkDisk(facts),
  ];
  return { ok: checks.every((c) => c.status !== "fail"), checks };
}

const pass = (id: PreflightCheckId, message: string): PreflightCheck => ({ id, status: "pass", message });
const warn = (id: PreflightCheckId, message: string, fix: string): PreflightCheck => ({
  id,
  status: "warn",
  message,
  fix,
});
const fail = (id: PreflightCheckId, message: string, fix: string): PreflightCheck => ({
  id,
  status: "fail",
  message,
  fix,
});

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const digits =
    u === 0
      ? String(v)
      : v
          .toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)
          .replace(/(\.\d*?)0+$/, "$1")
          .replace(/\.$/, "");
  return `${digits} ${units[u]}`;
}

const CONTAINER_NAMES: Partial<Record<Facts["virtualisation"], string>> = {
  lxc: "an LXC container",
  openvz: "an OpenVZ container",
  docker: "a Docker container",
  podman: "a Podman container",
  "systemd-nspawn": "a systemd-nspawn container",
  wsl: "WSL (Windows Subsystem for Linux)",
  "other-container": "a container",
};

function checkContainer(f: Facts): PreflightCheck {
  if (CONTAINER_KINDS.includes(f.virtualisation)) {
    return fail(
      "container",
      `this is ${CONTAINER_NAMES[f.virtualisation] ?? "a container"}: it shares the host's kernel, so it cannot kexec into the installer and cannot repartition its disk`,
      "order a KVM (full virtualisation) VPS or a dedicated server; containers cannot run their own NixOS kernel",
    );
  }
  if (f.virtualisation === "unknown") {
    return warn(
      "container",
      "the virtualisation type is unknown, so a container (which cannot be installed) was not ruled out",
      "run `nixnode-install detect` against the live machine, or check with the provider that it is a KVM or bare-metal server",
    );
  }
  return pass(
    "container",
    f.virtualisation === "none"
      ? "bare metal, not a container"
      : `${f.virtualisation} virtual machine, not a container`,
  );
}

function checkArch(f: Facts): PreflightCheck {
  if (f.arch === "x86_64" || f.arch === "aarch64") return pass("arch", `${f.arch} is supported`);
  return fail(
    "arch",
    `${f.arch} is not supported: the NixOS kexec installer and this tool exist for x86_64 and aarch64 only`,
    "use an x86_64 or aarch64 (ARM64) machine",
  );
}

function checkMemory(f: Facts, kexec: boolean): PreflightCheck {
  const ram = f.memory.totalBytes;
  const have = `${formatBytes(ram)} of RAM`;
  if (ram < MIN_MEMORY_BYTES) {
    if (!kexec) {
      return warn(
        "memory",
        `${have}: below 1 GiB the installation may run out of memory`,
        "add swap on the installer (swapon) or resize the machine to at least 1.5 GiB",
      );
    }
    const provider = providerById(f.provider.hint);
    return fail(
      "memory",
      `${have}: the NixOS kexec installer needs at least 1 GiB of physical RAM (swap does not count) and is killed by the OOM killer below that`,
      "resize the plan to at least 1.5 GiB of RAM for the install (you can downsize afterwards), or boot the NixOS installer ISO from the provider's console and run `nixnode-install --local`" +
        (provider?.quirks.ramFloor ? ` (${provider.name}: ${provider.quirks.ramFloor})` : ""),
    );
  }
  if (ram < ADVISED_MEMORY_BYTES && kexec) {
    return warn(
      "memory",
      `${have}: enough for the kexec installer, but under the advised 1.5 GiB; building disko's tools on the target may run out of memory`,
      "the install passes --no-disko-deps to save RAM; resize to 1.5 GiB or more if it still fails",
    );
  }
  return pass("memory", `${have}`);
}

function checkSecureBoot(f: Facts): PreflightCheck {
  if (f.firmware.secureBoot === true) {
    return fail(
      "secure-boot",
      "Secure Boot is on: the kexec installer cannot start under it and the installed NixOS would not boot (its bootloader is not signed)",
      "turn Secure Boot off in the firmware setup or the provider's panel (e.g. Shielded VM / Trusted Launch settings), then run detect again",
    );
  }
  if (f.firmware.secureBoot === false) return pass("secure-boot", "Secure Boot is off");
  if (f.firmware.mode === "bios") return pass("secure-boot", "BIOS boot: Secure Boot does not apply");
  return warn(
    "secure-boot",
    "whether Secure Boot is on could not be read",
    "make sure Secure Boot is off in the firmware setup or the provider's panel; `nixnode-install detect` reads it from the live machine",
  );
}

function checkLockdown(f: Facts, kexec: boolean): PreflightCheck {
  const l = f.firmware.kernelLockdown;
  if (!kexec)
    return pass("kernel-lockdown", "no kexec needed (already a NixOS installer), kernel lockdown does not matter");
  if (l === "none") return pass("kernel-lockdown", "kernel lockdown is off, kexec is allowed");
  if (l === null) {
    return warn(
      "kernel-lockdown",
      "the kernel lockdown mode could not be read; if lockdown is on, kexec will be refused",
      "check /sys/kernel/security/lockdown on the machine shows [none]; `nixnode-install detect` reads it from the live machine",
    );
  }
  return fail(
    "kernel-lockdown",
    `kernel lockdown is "${l}": the running kernel refuses kexec, so the installer cannot start`,
    "turn Secure Boot off (lockdown follows it on most distributions) or boot with lockdown=none, then run detect again",
  );
}

function checkXenPv(f: Facts): PreflightCheck {
  if (f.virtualisation === "xen-pv") {
    return fail(
      "xen-pv",
      "this is a Xen paravirtualised (PV) guest: it cannot kexec and boots only kernels the host hands it",
      "ask the provider for an HVM/PVH or KVM instance type, or install from their NixOS ISO if they offer one",
    );
  }
  return pass("xen-pv", "not a Xen PV guest");
}

function checkAccess(f: Facts, opts: PreflightOptions): PreflightCheck {
  const { isRoot, sudo, user } = f.access;
  const who = user ?? "the login user";
  if (isRoot || sudo === "root") return pass("access", opts.local ? "running as root" : `logged in as root`);
  if (sudo === "passwordless") return pass("access", `${who} has passwordless sudo`);
  if (sudo === "unknown") {
    return warn(
      "access",
      "whether the login user is root or has passwordless sudo is not known",
      "log in as root (root@host) or give the user passwordless sudo; `nixnode-install detect` checks it on the live machine",
    );
  }
  const why =
    sudo === "password"
      ? `${who} needs a password for sudo, which an unattended install cannot type`
      : `${who} is not root and cannot use sudo`;
  if (opts.local)
    return fail(
      "access",
      why,
      "run nixnode-install as root (sudo -i first; on the NixOS installer the nixos user has passwordless sudo)",
    );
  return fail(
    "access",
    why,
    `log in as root (root@host), or add "${user ?? "USER"} ALL=(ALL) NOPASSWD: ALL" with visudo on the target`,
  );
}

function checkTools(f: Facts, kexec: boolean): PreflightCheck {
  if (!kexec) return pass("tools", "already a NixOS installer: nothing to fetch or unpack");
  if (f.source !== "probe") {
    const from = f.source === "facter" ? "a nixos-facter report" : "a bundled example machine";
    return warn(
      "tools",
      `${from} does not record which tools the running system has (tar, cpio, setsid)`,
      "`nixnode-install detect root@host` checks them on the live machine",
    );
  }
  const missing = (["tar", "cpio", "setsid"] as const).filter((t) => !f.tools[t]);
  if (missing.length > 0) {
    const pkgs = missing.map((t) => (t === "setsid" ? "util-linux" : t));
    return fail(
      "tools",
      `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing on the target; the kexec installer is unpacked with tar/cpio and started with setsid`,
      `install them first, e.g. \`apt-get install ${[...new Set(pkgs)].join(" ")}\` (Debian/Ubuntu) or \`dnf install ${[...new Set(pkgs)].join(" ")}\``,
    );
  }
  return pass("tools", "tar, cpio and setsid are present");
}

function checkDisk(f: Facts): PreflightCheck {
  // The medium the running system booted from (an installer USB stick) is not an install target.
  const usable = f.disks.filter((d) => !d.readOnly && !(d.removable && d.holdsRoot) && d.sizeBytes >= MIN_DISK_BYTES);
  if (usable.length > 0) {
    const best = usable.reduce((a, b) => (b.sizeBytes > a.sizeBytes ? b : a));
    return pass(
      "disk",
      `${usable.length} disk${usable.length === 1 ? "" : "s"} of 8 GiB or more (largest ${best.path}, ${formatBytes(best.sizeBytes)})`,
    );
  }
  const seen =
    f.disks.length === 0
      ? "no disks were found"
      : `the disks found are too small, read-only or the boot medium (${f.disks.map((d) => `${d.path} ${formatBytes(d.sizeBytes)}`).join(", ")})`;
  return fail(
    "disk",
    `${seen}; NixOS needs a writable disk of at least 8 GiB`,
    "resize the disk or attach a larger one in the provider's panel, then run detect again",
  );
}

/** Human lines for a verdict, failures first, for the terminal and the log. */
export function formatVerdict(v: PreflightVerdict): string[] {
  const order = { fail: 0, warn: 1, pass: 2 } as const;
  const mark = { fail: "✗", warn: "!", pass: "✓" } as const;
  const lines = [v.ok ? "Preflight: ready to install." : "Preflight: this machine cannot be installed as it is."];
  for (const c of [...v.checks].sort((a, b) => order[a.status] - order[b.status])) {
    lines.push(`  ${mark[c.status]} ${c.id}: ${c.message}`);
    if (c.fix && c.status !== "pass") lines.push(`      fix: ${c.fix}`);
  }
  return lines;
}
