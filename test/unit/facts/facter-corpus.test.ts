// Every nixos-facter capture in the corpus, imported: the key facts per machine, checked against
// values read from each raw report by hand (sizes = sectors x sector size; RAM = phys_mem), and
// the preflight verdict each machine gets.
import { expect, it } from "vitest";
import { describeWithCorpus as describe } from "../../helpers/corpus";
import { preflight } from "../../../src/detect/preflight";
import { importFacterReport } from "../../../src/facts/facter";
import type { Facts } from "../../../src/facts/types";
import { corpusFiles, generatedInitrdModules, readCorpus } from "./corpus";

interface Row {
  file: string;
  arch: Facts["arch"];
  virt: Facts["virtualisation"];
  firmware: Facts["firmware"]["mode"];
  ram: number;
  disks: Array<[string, number]>;
  firstById: string | null;
  /** Check ids that fail; [] = installable (after the live checks a report cannot answer). */
  refused: string[];
}

const TB19 = 1920383410176;
const ROWS: Row[] = [
  {
    file: "ampereone-arm64-server-512gb_tum-dse-eliza.json",
    arch: "aarch64",
    virt: "none",
    firmware: "unknown",
    ram: 549755813888,
    disks: [["nvme0n1", 3840755982336]],
    firstById: "nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNN0XA20382",
    refused: [],
  },
  {
    file: "arm64-board-uefi-nvme-2xr8169_pinpox-traube.json",
    arch: "aarch64",
    virt: "none",
    firmware: "uefi",
    ram: 34359738368,
    disks: [
      ["nvme0n1", 1000204886016],
      ["sda", 61505273856],
    ],
    firstById: "nvme-Samsung_SSD_970_EVO_1TB_S467NX0MB03860Y",
    refused: [],
  },
  {
    file: "dell-r7515-4nvme-megaraid-1tb_tum-dse-ryan.json",
    arch: "x86_64",
    virt: "none",
    firmware: "unknown",
    ram: 1030792151040,
    disks: [
      ["nvme0n1", 3125627568 * 512],
      ["nvme3n1", 2000409264 * 512],
      ["nvme2n1", 1953525168 * 512],
      ["nvme1n1", 390703446 * 4096],
      ["sda", 1172123568 * 512],
    ],
    firstById: "nvme-Dell_Ent_NVMe_AGN_MU_AIC_1.6TB_S61ANA0T700017",
    refused: [],
  },
  {
    file: "dell-r760-2nvme-mpi3mr_tum-dse-ian.json",
    arch: "x86_64",
    virt: "none",
    firmware: "unknown",
    ram: 1099511627776,
    disks: [
      ["nvme0n1", 3840755982336],
      ["nvme1n1", 1600321314816],
    ],
    firstById: "nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNS0W800690",
    refused: [],
  },
  {
    file: "hetzner-cloud-arm64-4gb_mic92-eva.json",
    arch: "aarch64",
    virt: "kvm",
    firmware: "unknown",
    ram: 4026531840,
    disks: [["sda", 40961572864]],
    firstById: "scsi-0QEMU_QEMU_HARDDISK_100304024",
    refused: [],
  },
  {
    file: "hetzner-cloud-x86-8gb_25huizengek1-infra.json",
    arch: "x86_64",
    virt: "kvm",
    firmware: "unknown",
    ram: 8053063680,
    disks: [["sda", 320004096 * 512]],
    firstById: "scsi-0QEMU_QEMU_HARDDISK_60374697",
    refused: [],
  },
  {
    file: "hetzner-genoa-2nvme-256gb_clan-infra-web01.json",
    arch: "x86_64",
    virt: "none",
    firmware: "unknown",
    ram: 274877906944,
    disks: [
      ["nvme0n1", TB19],
      ["nvme1n1", TB19],
    ],
    firstById: "nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNJ0WC01644",
    refused: [],
  },
  {
    file: "hetzner-robot-b450d4u-2nvme-128gb_mic92-eve.json",
    arch: "x86_64",
    virt: "none",
    firmware: "unknown",
    ram: 137438953472,
    disks: [
      ["nvme0n1", TB19],
      ["nvme1n1", TB19],
    ],
    firstById: "nvme-KXD51RUE1T92_TOSHIBA_60DS10T0T7RM",
    refused: [],
  },
  {
    file: "hetzner-robot-b665d4u-2nvme-128gb_clan-infra-build-x86-01.json",
    arch: "x86_64",
    virt: "none",
    firmware: "unknown",
    ram: 137438953472,
    disks: [
      ["nvme0n1", TB19],
      ["nvme1n1", TB19],
    ],
    firstById: "nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNG0X429477",
    refused: [],
  },
  {
    file: "hetzner-rx-arm64-ampere-2nvme-128gb_clan-infra-build01.json",
    arch: "aarch64",
    virt: "none",
    firmware: "unknown",
    ram: 137438953472,
    disks: [
      ["nvme0n1", 960197124096],
      ["nvme1n1", 960197124096],
    ],
    firstById: "nvme-SAMSUNG_MZQL2960HCJR-00A07_S64FNN0X312137",
    refused: [],
  },
  // zram0 is listed as a disk in the report and must not count
  {
    file: "ionos-vps-edk2-832mb-zram_dozed-dev-ionos-eu1.json",
    arch: "x86_64",
    virt: "qemu",
    firmware: "uefi",
    ram: 872415232,
    disks: [["vda", 10737418240]],
    firstById: "virtio-596a1d8277c5f722",
    refused: ["memory"],
  },
  // eMMC boot partitions (mmcblk0boot0/1, 4 MiB) are not disks
  {
    file: "jetson-orin-arm64-emmc-nvme_tum-dse-joy.json",
    arch: "aarch64",
    virt: "none",
    firmware: "unknown",
    ram: 64424509440,
    disks: [
      ["nvme0n1", 3907029168 * 512],
      ["mmcblk0", 124190720 * 512],
    ],
    firstById: "nvme-Samsung_SSD_980_PRO_2TB_S736NL0X909257H",
    refused: [],
  },
  {
    file: "latitude-sh-supermicro-x11sce-1sata_latitudesh-examples.json",
    arch: "x86_64",
    virt: "none",
    firmware: "unknown",
    ram: 34359738368,
    disks: [["sda", 500107862016]],
    firstById: "ata-Samsung_SSD_860_EVO_500GB_S4X9NE0M706333X",
    refused: [],
  },
  {
    file: "netcup-kvm-4gb_zmberber-supersmash.json",
    arch: "x86_64",
    virt: "kvm",
    firmware: "unknown",
    ram: 4026531840,
    disks: [["vda", 85899345920]],
    firstById: null,
    refused: [],
  },
  // "1 GB" plan, 960 MiB physical: below the kexec installer's 1 GiB
  {
    file: "oracle-cloud-x86-micro-1gb_christoph00-oc1.json",
    arch: "x86_64",
    virt: "kvm",
    firmware: "uefi",
    ram: 1006632960,
    disks: [["sda", 53687091200]],
    firstById: "scsi-36020061207184369b08c2f363dbeeff7",
    refused: ["memory"],
  },
  {
    file: "proxmox-vm-2disks_thecowboyai.json",
    arch: "x86_64",
    virt: "kvm",
    firmware: "bios",
    ram: 4026531840,
    disks: [
      ["sdb", 1073741824],
      ["sda", 17179869184],
    ],
    firstById: "scsi-0QEMU_QEMU_HARDDISK_drive-scsi1",
    refused: [],
  },
  // version 2: memory only in the SMBIOS DIMM table (2097152 KiB); the floppy fd0 is not a disk
  {
    file: "qemu-vm-report-v2_nixos-facter-modules-basic.json",
    arch: "x86_64",
    virt: "kvm",
    firmware: "bios",
    ram: 2147483648,
    disks: [["vda", 10737418240]],
    firstById: "virtio-root",
    refused: [],
  },
  {
    file: "sprintbox-ru-kvm-448mb_dozed-dev-sprintbox-ru1.json",
    arch: "x86_64",
    virt: "kvm",
    firmware: "bios",
    ram: 469762048,
    disks: [["vda", 10737418240]],
    firstById: null,
    refused: ["memory"],
  },
  // reported as "microsoft" (Hyper-V enlightenments) but virtio hardware: KVM
  {
    file: "vultr-vc2-4gb_clan-infra-web02.json",
    arch: "x86_64",
    virt: "kvm",
    firmware: "unknown",
    ram: 4026531840,
    disks: [["vda", 85899345920]],
    firstById: null,
    refused: [],
  },
];

const load = (file: string) => importFacterReport(JSON.parse(readCorpus(`facter/${file}`)));

describe("nixos-facter captures", () => {
  it("has a row for every facter capture in the corpus", () => {
    expect(ROWS.map((r) => r.file).sort()).toEqual(corpusFiles("facter"));
  });

  it.each(ROWS)("$file", (row) => {
    const f = load(row.file);
    expect(f.source).toBe("facter");
    expect(f.arch).toBe(row.arch);
    expect(f.virtualisation).toBe(row.virt);
    expect(f.firmware.mode).toBe(row.firmware);
    expect(f.memory.totalBytes).toBe(row.ram);
    expect(f.disks.map((d) => [d.name, d.sizeBytes])).toEqual(row.disks);
    expect(f.disks[0]!.byId[0] ?? null).toBe(row.firstById === null ? null : `/dev/disk/by-id/${row.firstById}`);
    // what a report cannot know is unknown, never invented
    expect(f.network.dhcp4).toBe(true);
    expect(f.network.interfaces.flatMap((i) => i.addresses)).toEqual([]);
    expect(f.disks.some((d) => d.holdsRoot && d.transport !== "usb")).toBe(false);
    expect(f.warnings.join("\n")).toMatch(/no addresses, routes or DNS/);
    const v = preflight(f);
    expect(v.checks.filter((c) => c.status === "fail").map((c) => c.id)).toEqual(row.refused);
    expect(v.ok).toBe(row.refused.length === 0);
  });
});

describe("details derived from the reports", () => {
  it("orders by-id names model+serial first, namespace suffix next, eui/wwn last", () => {
    const d = load("hetzner-genoa-2nvme-256gb_clan-infra-web01.json").disks[0]!;
    expect(d.byId).toEqual([
      "/dev/disk/by-id/nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNJ0WC01644",
      "/dev/disk/by-id/nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNJ0WC01644_1",
      "/dev/disk/by-id/nvme-eui.3634473057c016440025384a00000002",
    ]);
    expect(d).toMatchObject({ transport: "nvme", model: "SAMSUNG MZQL21T9HCJR-00A07", serial: "S64GNJ0WC01644" });
  });

  it("falls back to by-path for virtio disks without a serial (netcup)", () => {
    const d = load("netcup-kvm-4gb_zmberber-supersmash.json").disks[0]!;
    expect(d.byId).toEqual([]);
    expect(d.byPath).toEqual(["/dev/disk/by-path/pci-0000:00:10.0", "/dev/disk/by-path/virtio-pci-0000:00:10.0"]);
    expect(d.transport).toBe("virtio");
  });

  it("marks the installer USB stick that holds /dev/root as removable and holding root", () => {
    const sda = load("arm64-board-uefi-nvme-2xr8169_pinpox-traube.json").disks.find((d) => d.name === "sda")!;
    expect(sda).toMatchObject({ transport: "usb", removable: true, holdsRoot: true });
  });

  it("reads transports: SATA via AHCI, SCSI behind a MegaRAID, eMMC", () => {
    expect(load("latitude-sh-supermicro-x11sce-1sata_latitudesh-examples.json").disks[0]!.transport).toBe("sata");
    expect(load("dell-r7515-4nvme-megaraid-1tb_tum-dse-ryan.json").disks.find((d) => d.name === "sda")!.transport).toBe(
      "scsi",
    );
    expect(
      load("jetson-orin-arm64-emmc-nvme_tum-dse-joy.json").disks.find((d) => d.name === "mmcblk0")!.transport,
    ).toBe("mmc");
  });

  it.each([
    ["hetzner-cloud-x86-8gb_25huizengek1-infra.json", { vendor: "Hetzner", product: "vServer", hint: "hetzner-cloud" }],
    [
      "hetzner-robot-b450d4u-2nvme-128gb_mic92-eve.json",
      { vendor: "Hetzner", product: null, hint: "hetzner-dedicated" },
    ],
    ["netcup-kvm-4gb_zmberber-supersmash.json", { vendor: "netcup", product: "KVM Server", hint: "netcup" }],
    ["vultr-vc2-4gb_clan-infra-web02.json", { vendor: "Vultr", product: "VC2", hint: "vultr" }],
    [
      "oracle-cloud-x86-micro-1gb_christoph00-oc1.json",
      { vendor: "QEMU", product: "Standard PC (i440FX + PIIX, 1996)", hint: "oracle-cloud" },
    ],
    ["dell-r760-2nvme-mpi3mr_tum-dse-ian.json", { vendor: "Dell Inc.", product: "PowerEdge R760", hint: null }],
    ["hetzner-genoa-2nvme-256gb_clan-infra-web01.json", { vendor: null, product: "GENOAD12M3-2Q/H", hint: null }],
    ["hetzner-cloud-arm64-4gb_mic92-eva.json", { vendor: null, product: null, hint: null }],
  ])("provider from DMI for %s", (file, provider) => {
    expect(load(file).provider).toEqual(provider);
  });

  it.each([
    ["dell-r7515-4nvme-megaraid-1tb_tum-dse-ryan.json", "amd", 64, ["kvm-amd"]],
    ["dell-r760-2nvme-mpi3mr_tum-dse-ian.json", "intel", 64, ["kvm-intel"]],
    ["proxmox-vm-2disks_thecowboyai.json", "intel", 2, []],
    ["hetzner-rx-arm64-ampere-2nvme-128gb_clan-infra-build01.json", "arm", null, []],
  ])("cpu of %s: %s, %s cores, %j", (file, vendor, cores, kvm) => {
    const f = load(file);
    expect([f.cpu.vendor, f.cpu.cores, f.kernelModules]).toEqual([vendor, cores, kvm]);
  });

  it("names interfaces from sysfs when the report has no unix_device_name, with their drivers", () => {
    const f = load("dell-r760-2nvme-mpi3mr_tum-dse-ian.json");
    const eth = f.network.interfaces
      .filter((i) => i.kind === "ethernet")
      .map((i) => `${i.name}:${i.driver}`)
      .sort();
    expect(eth).toEqual([
      "eno12399np0:bnxt_en",
      "eno12409np1:bnxt_en",
      "eno8303:tg3",
      "eno8403:tg3",
      "enp160s0np0:ice",
    ]);
    const joy = load("jetson-orin-arm64-emmc-nvme_tum-dse-joy.json").network.interfaces;
    expect(joy.find((i) => i.name === "wlP1p1s0")!.kind).toBe("wlan");
    expect(joy.find((i) => i.name === "can0")!.kind).toBe("other");
  });
});

// nixos-generate-config output for the same machine (netcup, sprintbox) or for the same provider's
// VM type (Vultr, Hetzner Cloud ARM, the OCI-like KVM AMD VM): every module it put into
// boot.initrd.availableKernelModules must be in ours.
describe("initrd modules against nixos-generate-config", () => {
  const pairs: Array<[string, string, string]> = [
    ["same machine", "netcup-kvm-4gb_zmberber-supersmash.json", "netcup-kvm_zmberber.nix"],
    ["same machine", "sprintbox-ru-kvm-448mb_dozed-dev-sprintbox-ru1.json", "sprintbox-ru-kvm_dozed-dev.nix"],
    ["same VM type", "vultr-vc2-4gb_clan-infra-web02.json", "vultr-vm_kranzes.nix"],
    ["same VM type", "oracle-cloud-x86-micro-1gb_christoph00-oc1.json", "kvm-amd-vm-ens3_errorteapot-agwe.nix"],
  ];
  it.each(pairs)("%s: %s covers %s", (_kind, facter, nix) => {
    const ours = load(facter).initrdModules;
    const theirs = generatedInitrdModules(readCorpus(`hardware-configuration/${nix}`));
    expect(theirs.length).toBeGreaterThan(2);
    expect(theirs.filter((m) => !ours.includes(m))).toEqual([]);
  });

  it("Hetzner Cloud ARM: the storage modules nixos-generate-config chose are present", () => {
    const ours = load("hetzner-cloud-arm64-4gb_mic92-eva.json").initrdModules;
    const theirs = generatedInitrdModules(readCorpus("hardware-configuration/hetzner-cloud-arm64_lillecarl.nix"));
    expect(theirs).toEqual(["xhci_pci", "virtio_scsi", "sr_mod"]);
    expect(theirs.filter((m) => !ours.includes(m))).toEqual([]);
  });

  it("bare metal: NVMe, AHCI and the NIC driver; never the floppy", () => {
    expect(load("hetzner-robot-b450d4u-2nvme-128gb_mic92-eve.json").initrdModules).toEqual([
      "ahci",
      "igb",
      "nvme",
      "xhci_pci",
    ]);
    expect(load("qemu-vm-report-v2_nixos-facter-modules-basic.json").initrdModules).not.toContain("floppy");
  });
});
