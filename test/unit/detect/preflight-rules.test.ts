// Each preflight rule on its own: the sample VPS passes everything; breaking one fact fails (or
// warns) exactly that check, with a message and a fix the operator can act on.
import { describe, expect, it } from "vitest";
import { formatBytes, formatVerdict, preflight } from "../../../src/detect/preflight";
import type { Facts } from "../../../src/facts/types";
import { sampleFacts } from "../facts/sample-facts";

const MiB = 1024 ** 2;
const with_ = (edit: (f: Facts) => void): Facts => {
  const f = sampleFacts();
  edit(f);
  return f;
};
const statusOf = (f: Facts, id: string, opts?: { local?: boolean }) =>
  preflight(f, opts).checks.find((c) => c.id === id)!;

describe("preflight rules", () => {
  it("passes every check for a plain KVM VPS logged in as root", () => {
    const v = preflight(sampleFacts());
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => [c.id, c.status])).toEqual([
      ["container", "pass"],
      ["arch", "pass"],
      ["memory", "pass"],
      ["secure-boot", "pass"],
      ["kernel-lockdown", "pass"],
      ["xen-pv", "pass"],
      ["access", "pass"],
      ["tools", "pass"],
      ["disk", "pass"],
    ]);
  });

  const failures: Array<[string, string, (f: Facts) => void, RegExp]> = [
    [
      "OpenVZ container",
      "container",
      (f) => {
        f.virtualisation = "openvz";
      },
      /OpenVZ container.*cannot kexec/,
    ],
    [
      "LXC container",
      "container",
      (f) => {
        f.virtualisation = "lxc";
      },
      /an LXC container/,
    ],
    [
      "32-bit ARM",
      "arch",
      (f) => {
        f.arch = "armv7l";
      },
      /armv7l is not supported/,
    ],
    [
      "1 GiB minus 64 MiB of RAM",
      "memory",
      (f) => {
        f.memory.totalBytes = 1024 * MiB - 64 * MiB;
      },
      /960 MiB of RAM.*at least 1 GiB/,
    ],
    [
      "Secure Boot on",
      "secure-boot",
      (f) => {
        f.firmware.mode = "uefi";
        f.firmware.secureBoot = true;
      },
      /Secure Boot is on/,
    ],
    [
      "lockdown integrity",
      "kernel-lockdown",
      (f) => {
        f.firmware.kernelLockdown = "integrity";
      },
      /"integrity".*refuses kexec/,
    ],
    [
      "Xen PV",
      "xen-pv",
      (f) => {
        f.virtualisation = "xen-pv";
      },
      /paravirtualised/,
    ],
    [
      "user without sudo",
      "access",
      (f) => {
        f.access = { user: "deploy", isRoot: false, sudo: "none" };
      },
      /deploy is not root/,
    ],
    [
      "sudo with a password",
      "access",
      (f) => {
        f.access = { user: "ubuntu", isRoot: false, sudo: "password" };
      },
      /needs a password for sudo/,
    ],
    [
      "no cpio",
      "tools",
      (f) => {
        f.tools.cpio = false;
      },
      /cpio is missing/,
    ],
    [
      "only a 4 GiB disk",
      "disk",
      (f) => {
        f.disks[0]!.sizeBytes = 4 * 1024 * MiB;
      },
      /too small.*\/dev\/sda 4 GiB/,
    ],
    [
      "no disk at all",
      "disk",
      (f) => {
        f.disks = [];
      },
      /no disks were found/,
    ],
  ];

  it.each(failures)("refuses %s on check %s", (_name, id, edit, message) => {
    const v = preflight(with_(edit));
    expect(v.ok).toBe(false);
    const failed = v.checks.filter((c) => c.status === "fail");
    expect(failed.map((c) => c.id)).toEqual([id]);
    expect(failed[0]!.message).toMatch(message);
    expect(failed[0]!.fix).toBeTruthy();
  });

  it("warns (does not refuse) between 1 and 1.5 GiB and advises --no-disko-deps", () => {
    const c = statusOf(
      with_((f) => {
        f.memory.totalBytes = 1200 * MiB;
      }),
      "memory",
    );
    expect(c.status).toBe("warn");
    expect(c.fix).toMatch(/--no-disko-deps/);
  });

  it("treats unknown values as warnings, not failures", () => {
    const f = with_((x) => {
      x.virtualisation = "unknown";
      x.firmware = { mode: "unknown", secureBoot: null, kernelLockdown: null, vendor: null };
      x.access = { user: null, isRoot: false, sudo: "unknown" };
    });
    const v = preflight(f);
    expect(v.ok).toBe(true);
    expect(v.checks.filter((c) => c.status === "warn").map((c) => c.id)).toEqual([
      "container",
      "secure-boot",
      "kernel-lockdown",
      "access",
    ]);
  });

  it("does not ask for kexec tools, lockdown or 1 GiB when already running the NixOS installer", () => {
    const f = with_((x) => {
      x.os.isNixosInstaller = true;
      x.tools = { tar: false, cpio: false, setsid: false, curl: false, wget: false, kexec: false };
      x.firmware.kernelLockdown = "integrity";
      x.memory.totalBytes = 900 * MiB;
    });
    const v = preflight(f);
    expect(v.ok).toBe(true);
    expect(statusOf(f, "memory").status).toBe("warn");
    expect(statusOf(f, "tools").status).toBe("pass");
    expect(
      preflight(
        with_((x) => {
          x.tools.tar = false;
        }),
        { local: true },
      ).ok,
    ).toBe(true);
  });

  it("ignores read-only disks when looking for an 8 GiB disk", () => {
    expect(
      statusOf(
        with_((f) => {
          f.disks[0]!.readOnly = true;
        }),
        "disk",
      ).status,
    ).toBe("fail");
  });

  it("does not count the USB stick the system booted from as an install disk", () => {
    const stick = with_((f) => {
      f.disks[0]!.removable = true;
      f.disks[0]!.transport = "usb";
    });
    expect(statusOf(stick, "disk").status).toBe("fail");
    expect(statusOf(stick, "disk").message).toMatch(/boot medium/);
    expect(
      statusOf(
        with_((f) => {
          f.disks[0]!.removable = true;
          f.disks[0]!.holdsRoot = false;
        }),
        "disk",
      ).status,
    ).toBe("pass");
  });

  it("tells a local user without root to become root, not to log in over SSH", () => {
    const f = with_((x) => {
      x.access = { user: "nixos", isRoot: false, sudo: "none" };
      x.os.isNixosInstaller = true;
    });
    const c = statusOf(f, "access", { local: true });
    expect(c.status).toBe("fail");
    expect(c.fix).toMatch(/sudo -i/);
    expect(statusOf(f, "access").fix).toMatch(/root@host/);
  });

  it("formats failures first with their fix", () => {
    const lines = formatVerdict(
      preflight(
        with_((f) => {
          f.tools.setsid = false;
        }),
      ),
    );
    expect(lines[0]).toMatch(/cannot be installed/);
    expect(lines[1]).toMatch(/^ {2}✗ tools: setsid is missing/);
    expect(lines[2]).toMatch(/^ {6}fix: install them first, e.g. `apt-get install util-linux`/);
    expect(lines.filter((l) => l.includes("✓"))).toHaveLength(8);
  });
});

describe("formatBytes", () => {
  it.each([
    [512, "512 B"],
    [960 * 1024 ** 2, "960 MiB"],
    [7.5 * 1024 ** 3, "7.5 GiB"],
    [1920383410176, "1.75 TiB"],
    [4 * 1024 ** 3, "4 GiB"],
    [153 * 1024 ** 3 + 1, "153 GiB"],
  ])("%i bytes is %s", (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
