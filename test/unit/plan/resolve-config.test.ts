// Answers merged over the facts: what is chosen when nothing is said, and what only fails together.
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { defaultsFromFacts, mirrorCandidates, resolveConfig } from "../../../src/plan/defaults";
import { planFromFacts } from "../../../src/plan/index";
import { KEY_ED25519, disk, makeFacts } from "./fixtures";

const keys = { ssh: { authorizedKeys: [KEY_ED25519] } };

describe("resolveConfig", () => {
  it("takes the disk holding / and the facts' host name; by-id paths; notes what it chose", () => {
    const facts = makeFacts({
      hostname: "web-01.example.org",
      disks: [disk("vdb", 500), disk("vda", 40, { holdsRoot: true })],
    });
    const notes: string[] = [];
    const c = resolveConfig(keys, facts, { interactive: false }, notes);
    expect(c.hostname).toBe("web-01");
    expect(c.disk.devices).toEqual(["/dev/disk/by-id/test-vda"]);
    expect(notes.join("\n")).toMatch(/system disk chosen: \/dev\/vda .*holds the current \/.*also present: \/dev\/vdb/);
    expect(c).toMatchObject({
      nixos: "26.05",
      timezone: "UTC",
      profile: "base",
      ssh: { port: 2222, adminUser: null },
      fail2ban: { enable: true, ignoreIP: [] },
    });
  });

  it("without a root disk prefers NVMe SSDs over rotating and removable disks", () => {
    const facts = makeFacts({
      disks: [
        disk("sda", 4000, { rotational: true, transport: "sata" }),
        disk("sdb", 64, { removable: true, transport: "usb" }),
        disk("nvme0n1", 1000),
      ],
    });
    expect(defaultsFromFacts(facts).disk?.devices).toEqual(["/dev/disk/by-id/test-nvme0n1"]);
  });

  it("a disk without by-id links is named by by-path", () => {
    const facts = makeFacts({
      disks: [disk("vda", 80, { holdsRoot: true, byId: [], byPath: ["/dev/disk/by-path/pci-0000:00:10.0"] })],
    });
    expect(resolveConfig(keys, facts).disk.devices).toEqual(["/dev/disk/by-path/pci-0000:00:10.0"]);
  });

  it("mirror layouts pick a pair of equal disks; a data disk is resolved to its stable path", () => {
    const facts = makeFacts({
      disks: [disk("nvme0n1", 1000), disk("nvme1n1", 1000), disk("sda", 4000, { rotational: true, transport: "sata" })],
    });
    expect(mirrorCandidates(facts).map((p) => p.map((d) => d.name))).toEqual([["nvme0n1", "nvme1n1"]]);
    const c = resolveConfig(
      { ...keys, disk: { layout: "mirror-zfs", data: { device: "/dev/sda", mountpoint: "/data", filesystem: "xfs" } } },
      facts,
    );
    expect(c.disk.devices).toEqual(["/dev/disk/by-id/test-nvme0n1", "/dev/disk/by-id/test-nvme1n1"]);
    expect(c.disk.data).toEqual({ device: "/dev/disk/by-id/test-sda", mountpoint: "/data", filesystem: "xfs" });
  });

  it("refuses a partitioned data disk before anything is written: disko would neither format nor mount it", () => {
    const used = disk("sdb", 4000, {
      rotational: true,
      transport: "sata",
      partitions: [
        {
          name: "sdb1",
          path: "/dev/sdb1",
          sizeBytes: 4000 * 2 ** 30,
          fstype: "ntfs",
          label: "backup",
          uuid: null,
          mountpoints: [],
        },
      ],
    });
    const facts = makeFacts({ disks: [disk("vda", 80, { holdsRoot: true }), used] });
    const data = { device: "/dev/sdb", mountpoint: "/var/lib/bitcoind", filesystem: "ext4" as const };
    let err: unknown;
    try {
      resolveConfig({ ...keys, disk: { data } }, facts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe("disk.data.device");
    expect((err as UserError).message).toContain("/dev/sdb1 (ntfs");
    expect((err as UserError).hint).toContain("wipefs");
    // the same disk, blank, is accepted
    const blank = makeFacts({ disks: [disk("vda", 80, { holdsRoot: true }), disk("sdb", 4000)] });
    expect(resolveConfig({ ...keys, disk: { data } }, blank).disk.data?.device).toBe("/dev/disk/by-id/test-sdb");
  });

  it("refuses mirror disks of different sizes, naming disk.devices", () => {
    const facts = makeFacts({ disks: [disk("nvme0n1", 1000), disk("nvme1n1", 2000)] });
    expect(() =>
      resolveConfig({ ...keys, disk: { layout: "mirror-mdadm", devices: ["/dev/nvme0n1", "/dev/nvme1n1"] } }, facts),
    ).toThrow(/differ in size/);
  });

  it("missing keys: an error naming ssh.authorizedKeys, unless planning an example for inspection", () => {
    const facts = makeFacts();
    let err: unknown;
    try {
      resolveConfig({}, facts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe("ssh.authorizedKeys");
    const notes: string[] = [];
    expect(resolveConfig({}, facts, { interactive: false, allowNoKeys: true }, notes).ssh.authorizedKeys).toEqual([]);
    expect(notes.join()).toMatch(/install refuses/);
  });
});

describe("buildPlan's host.json", () => {
  it("adds the operator's address as the target saw it to fail2ban's ignore list, once", () => {
    const facts = makeFacts({ operatorAddress: "198.51.100.23" });
    const plan = planFromFacts({
      facts,
      config: { ...keys, fail2ban: { ignoreIP: ["198.51.100.23", "10.0.0.0/8"] } },
      interactive: false,
    });
    expect(plan.host.fail2ban.ignoreIP).toEqual(["198.51.100.23", "10.0.0.0/8"]);
    expect(planFromFacts({ facts, config: keys, interactive: false }).host.fail2ban.ignoreIP).toEqual([
      "198.51.100.23",
    ]);
  });

  it("sizes swap from RAM, 'none' is none, and the boot mode comes from the firmware", () => {
    const facts = makeFacts({ memory: { totalBytes: 2 * 1024 ** 3, swapBytes: 0 } });
    const auto = planFromFacts({ facts, config: keys, interactive: false });
    expect(auto.disk.swapMiB).toBeGreaterThan(0);
    expect(auto.disk.bootMode).toBe("bios");
    expect(planFromFacts({ facts, config: { ...keys, disk: { swap: "none" } }, interactive: false }).disk.swapMiB).toBe(
      0,
    );
    expect(planFromFacts({ facts, config: { ...keys, disk: { swap: "3G" } }, interactive: false }).disk.swapMiB).toBe(
      3072,
    );
  });

  it("local planning from a NixOS installer skips the kexec checks (no tar/cpio needed)", () => {
    const facts = makeFacts({
      tools: { tar: false, cpio: false, setsid: false, curl: false, wget: false, kexec: false },
    });
    expect(() => planFromFacts({ facts, config: keys, interactive: false })).toThrow(/preflight\.tools/);
    expect(planFromFacts({ facts, config: keys, interactive: false, local: true }).config.hostname).toBe("vps-test");
  });
});
