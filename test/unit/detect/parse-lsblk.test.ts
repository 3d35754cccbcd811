// Every lsblk JSON capture in the shared corpus, with values read from each capture by hand.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDiskLinks } from "../../../src/detect/parse-disk-links";
import { parseLsblkJson, parseSize } from "../../../src/detect/parse-lsblk";

import { CORPUS as CORPUS_ROOT, describeWithCorpus } from "../../helpers/corpus";

const CORPUS = `${CORPUS_ROOT}lsblk-json/`;
const G = 1024 ** 3;
const M = 1024 ** 2;

interface Row {
  file: string;
  disks: string[];
  sizes: number[];
  partitions: number[];
  root: string | null;
  transports: string[];
  check?: (d: ReturnType<typeof parseLsblkJson>) => void;
}

const rows: Row[] = [
  {
    // old format: "mountpoint" scalar; sr0 is a rom, not a disk
    file: "azure-vm-sda-resource-disk_suse-azuremetadata.json",
    disks: ["sda", "sdb"],
    sizes: [30 * G, 16 * G],
    partitions: [4, 1],
    root: "sda",
    transports: ["unknown", "unknown"],
    check: ({ disks }) => {
      expect(disks[0]!.mountpoints).toEqual(["/boot/efi", "/boot", "/"]);
      expect(disks[0]!.partitions.map((p) => p.sizeBytes)).toEqual([2 * M, 512 * M, 1 * G, Math.round(28.5 * G)]);
      expect(disks[1]!.mountpoints).toEqual(["/mnt"]);
    },
  },
  {
    // no TYPE, no SIZE columns; LUKS holder under sdb; loop devices are not disks
    file: "desktop-4sata-nvme-luks_qkzk-fm.json",
    disks: ["sda", "sdb", "sdc", "sdd", "nvme0n1"],
    sizes: [0, 0, 0, 0, 0],
    partitions: [1, 0, 1, 1, 2],
    root: "nvme0n1",
    transports: ["unknown", "unknown", "unknown", "unknown", "nvme"],
    check: ({ disks, warnings }) => {
      expect(disks[1]!.mountpoints).toEqual(["/run/media/quentin/e2838de1-018a-44a9-bcc2-121a04251a31"]);
      expect(disks[4]!.partitions[1]).toMatchObject({
        path: "/dev/nvme0n1p2",
        fstype: "ext4",
        uuid: "2e3343df-6488-461e-80f2-1b276e7e5cad",
        mountpoints: ["/"],
      });
      expect(warnings).toContain("disks: nvme0n1 has no size in the lsblk output");
    },
  },
  {
    file: "talos-k8s-node-baremetal-2sata-iscsi_samr037.json",
    disks: ["sda", "sdb", "sdc"],
    sizes: [Math.round(223.6 * G), Math.round(238.5 * G), 100 * M],
    partitions: [4, 1, 0],
    root: null,
    transports: ["sata", "sata", "scsi"],
    check: ({ disks }) => {
      expect(disks.map((d) => d.model)).toEqual(["PNY CS900 240GB", "TOSHIBA THNSNJ25", "VIRTUAL-DISK"]);
      expect(disks[0]!.mountpoints).toEqual(["/host/var"]);
    },
  },
  {
    file: "talos-k8s-node-qemu-vm-longhorn_samr037.json",
    disks: ["sda", "sdb", "sdc", "sdd", "sde", "sdf", "sdg", "sdh", "sdi", "sdj", "sdk", "sdl", "sdm", "sdn"],
    sizes: [32, 320, 20, 8, 8, 2, 5, 20, 2, 10, 1].map((n) => n * G).concat([100 * M, 8 * G, 10 * G]),
    partitions: [6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    root: null,
    transports: ["unknown", "unknown", ...Array<string>(12).fill("scsi")],
    check: ({ disks }) => {
      expect(disks[0]!.rotational).toBe(true);
      expect(disks[0]!.model).toBe("QEMU HARDDISK");
    },
  },
  {
    // sizes as numbers (-b); zram is not a disk
    file: "workstation-nvme-zram-bytes_mvth1s-hwbench.json",
    disks: ["nvme0n1"],
    sizes: [1000204886016],
    partitions: [3],
    root: null,
    transports: ["nvme"],
    check: ({ disks }) => {
      expect(disks[0]!.model).toBe("Samsung SSD 990 EVO Plus 1TB");
      expect(disks[0]!.partitions.map((p) => p.sizeBytes)).toEqual([629145600, 2147483648, 997426462720]);
    },
  },
  {
    // util-linux 2.37 "mountpoints" lists with null entries
    file: "xen-cloud-vm-xvda-lsblk-2.37_suse-azuremetadata.json",
    disks: ["xvda"],
    sizes: [10 * G],
    partitions: [3],
    root: "xvda",
    transports: ["xen"],
    check: ({ disks }) => expect(disks[0]!.mountpoints).toEqual(["/boot/efi", "/"]),
  },
];

describeWithCorpus("parseLsblkJson on every corpus capture", () => {
  it("has a row for every capture", () => {
    expect(readdirSync(CORPUS).sort()).toEqual(rows.map((r) => r.file).sort());
  });
  it.each(rows)("$file", (row) => {
    const parsed = parseLsblkJson(JSON.parse(readFileSync(CORPUS + row.file, "utf8")));
    const { disks } = parsed;
    expect(disks.map((d) => d.name)).toEqual(row.disks);
    expect(disks.map((d) => d.sizeBytes)).toEqual(row.sizes);
    expect(disks.map((d) => d.partitions.length)).toEqual(row.partitions);
    expect(disks.filter((d) => d.holdsRoot).map((d) => d.name)).toEqual(row.root ? [row.root] : []);
    expect(disks.map((d) => d.transport)).toEqual(row.transports);
    expect(disks.every((d) => d.path === `/dev/${d.name}`)).toBe(true);
    row.check?.(parsed);
  });
});

describe("holdsRoot through holders", () => {
  it("finds / on LVM on a partition and on md over two disks", () => {
    const lv = { name: "vg-root", type: "lvm", mountpoints: ["/"] };
    const md = { name: "md0", type: "raid1", mountpoints: ["/"] };
    const json = {
      blockdevices: [
        {
          name: "sda",
          type: "disk",
          size: 50 * G,
          children: [
            { name: "sda1", type: "part", size: 1 * M },
            { name: "sda2", type: "part", size: 49 * G, children: [lv] },
          ],
        },
        {
          name: "nvme0n1",
          type: "disk",
          size: 512 * G,
          children: [{ name: "nvme0n1p1", type: "part", children: [md] }],
        },
        {
          name: "nvme1n1",
          type: "disk",
          size: 512 * G,
          children: [{ name: "nvme1n1p1", type: "part", children: [md] }],
        },
        {
          name: "sdb",
          type: "disk",
          size: 2000 * G,
          children: [{ name: "sdb1", type: "part", children: [{ name: "data", type: "crypt", mountpoint: "/data" }] }],
        },
      ],
    };
    const { disks } = parseLsblkJson(json);
    expect(disks.map((d) => [d.name, d.holdsRoot])).toEqual([
      ["sda", true],
      ["nvme0n1", true],
      ["nvme1n1", true],
      ["sdb", false],
    ]);
    expect(disks[0]!.partitions[1]!.mountpoints).toEqual(["/"]);
    expect(disks[3]!.mountpoints).toEqual(["/data"]);
  });
  it("uses findmnt's source when lsblk reported no mounts", () => {
    const json = {
      blockdevices: [
        { name: "vda", type: "disk", size: "20G", children: [{ name: "vda1", type: "part", size: "20G" }] },
        { name: "vdb", type: "disk", size: "20G" },
      ],
    };
    expect(parseLsblkJson(json, { rootSource: "/dev/vda1" }).disks.map((d) => d.holdsRoot)).toEqual([true, false]);
  });
  it("reads string booleans of old lsblk versions", () => {
    const json = { blockdevices: [{ name: "sdc", type: "disk", size: "16106127360", rm: "1", ro: "0", rota: "1" }] };
    expect(parseLsblkJson(json).disks[0]).toMatchObject({
      sizeBytes: 16106127360,
      removable: true,
      readOnly: false,
      rotational: true,
    });
  });
});

describe("parseSize", () => {
  it.each([
    [274877906944, 274877906944],
    ["274877906944", 274877906944],
    ["30G", 30 * G],
    ["28.5G", Math.round(28.5 * G)],
    ["628K", 628 * 1024],
    ["1.8T", Math.round(1.8 * 1024 ** 4)],
    ["", null],
    ["big", null],
    [null, null],
  ])("%s -> %s", (input, bytes) => expect(parseSize(input)).toBe(bytes));
});

describe("by-id ranking", () => {
  const listing = `total 0
lrwxrwxrwx 1 root root 13 Nov 23 10:00 nvme-eui.0025385b71b0a1e2 -> ../../nvme0n1
lrwxrwxrwx 1 root root 13 Nov 23 10:00 nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T123456 -> ../../nvme0n1
lrwxrwxrwx 1 root root 13 Nov 23 10:00 nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T123456_1 -> ../../nvme0n1
lrwxrwxrwx 1 root root 15 Nov 23 10:00 nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T123456-part1 -> ../../nvme0n1p1
lrwxrwxrwx 1 root root  9 Nov 23 10:00 wwn-0x5002538e40a1b2c3 -> ../../sda
lrwxrwxrwx 1 root root  9 Nov 23 10:00 ata-Samsung_SSD_860_EVO_1TB_S3Z9NB0K123456X -> ../../sda
lrwxrwxrwx 1 root root  9 Nov 23 10:00 scsi-0QEMU_QEMU_HARDDISK_drive-scsi0-0-0-0 -> ../../sdb
lrwxrwxrwx 1 root root 10 Nov 23 10:00 dm-name-vg-root -> ../../dm-0
lrwxrwxrwx 1 root root 10 Nov 23 10:00 lvm-pv-uuid-abc -> ../../sda2`;
  it("puts model+serial names first and wwn/eui last; skips LVM and dm links", () => {
    const links = parseDiskLinks(listing, "by-id");
    expect(links.get("nvme0n1")).toEqual([
      "/dev/disk/by-id/nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T123456",
      "/dev/disk/by-id/nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T123456_1",
      "/dev/disk/by-id/nvme-eui.0025385b71b0a1e2",
    ]);
    expect(links.get("sda")).toEqual([
      "/dev/disk/by-id/ata-Samsung_SSD_860_EVO_1TB_S3Z9NB0K123456X",
      "/dev/disk/by-id/wwn-0x5002538e40a1b2c3",
    ]);
    expect(links.get("sdb")).toEqual(["/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-scsi0-0-0-0"]);
    expect(links.has("dm-0")).toBe(false);
    expect(links.has("sda2")).toBe(false);
  });
});
