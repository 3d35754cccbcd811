// Initrd modules from the probe's hardware section, against what nixos-generate-config wrote on
// real machines of the same kind (corpus/hardware-configuration: read in the test). The sysfs lines
// are written for each machine's controllers as the probe prints them (we have no probe capture of
// those machines); the expected lists come from the captures.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseProbeOutput } from "../../../src/detect/parse-probe";
import { CORPUS, describeWithCorpus } from "../../helpers/corpus";

const corpus = (f: string) => readFileSync(`${CORPUS}hardware-configuration/${f}`, "utf8");
const LOCAL = readFileSync(new URL("../../fixtures/probe/debian12-dev-container-local.txt", import.meta.url), "utf8");
const section = (text: string, name: string, body: string) =>
  text.replace(new RegExp(`@@section ${name}\\n[\\s\\S]*?@@end\\n`), `@@section ${name}\n${body}\n@@end\n`);
const list = (nix: string, option: string) =>
  [...new RegExp(`${option.replace(/\./g, "\\.")} = \\[([^\\]]*)\\]`).exec(nix)![1]!.matchAll(/"([^"]+)"/g)]
    .map((m) => m[1]!)
    .sort();

const PIIX_IDE = "pci 0000:00:01.1 class=0x010180 vendor=0x8086 device=0x7010 module=ata_piix driver=ata_piix";
const UHCI = "pci 0000:00:01.2 class=0x0c0300 vendor=0x8086 device=0x7020 module=uhci_hcd driver=uhci_hcd";
const XHCI = "pci 0000:00:14.0 class=0x0c0330 vendor=0x8086 device=0xa12f module=xhci_pci driver=xhci_hcd";
const AHCI = "pci 0000:00:1f.2 class=0x010601 vendor=0x8086 device=0xa102 module=ahci driver=ahci";
const NVME = "pci 0000:01:00.0 class=0x010802 vendor=0x144d device=0xa808 module=nvme driver=nvme";
const VIRTIO_SCSI_PCI =
  "pci 0000:00:04.0 class=0x010000 vendor=0x1af4 device=0x1004 module=virtio_pci driver=virtio-pci";
const VIRTIO_BLK_PCI =
  "pci 0000:00:05.0 class=0x010000 vendor=0x1af4 device=0x1001 module=virtio_pci driver=virtio-pci";
const VIRTIO_NET_PCI =
  "pci 0000:00:03.0 class=0x020000 vendor=0x1af4 device=0x1000 module=virtio_pci driver=virtio-pci";
const V_SCSI = "virtio virtio1 device=0x0008 module= driver=virtio_scsi";
const V_BLK = "virtio virtio1 device=0x0002 module= driver=virtio_blk";
const V_NET = "virtio virtio0 device=0x0001 module= driver=virtio_net";
const disk = (name: string) => `${name}\tsize=83886080\tro=0\trm=0\trota=1\tmodel=\tserial=`;

const rows = [
  {
    file: "ovh-vps_edouardparis.nix",
    hw: [PIIX_IDE, VIRTIO_SCSI_PCI, VIRTIO_NET_PCI, V_SCSI, V_NET],
    block: ["sda"],
    flag: "vmx",
  },
  {
    file: "kvm-amd-vm-ens3_errorteapot-agwe.nix",
    hw: [PIIX_IDE, UHCI, VIRTIO_SCSI_PCI, VIRTIO_NET_PCI, V_SCSI, V_NET],
    block: ["sda"],
    flag: "svm",
  },
  {
    file: "vultr-vm_kranzes.nix",
    hw: [AHCI, XHCI, VIRTIO_BLK_PCI, VIRTIO_NET_PCI, V_BLK, V_NET],
    block: ["vda", "sr0"],
    flag: "",
  },
  { file: "hetzner-robot-fujitsu_freylyons.nix", hw: [XHCI, AHCI, NVME], block: ["nvme0n1", "nvme1n1"], flag: "vmx" },
  {
    file: "netcup-kvm_zmberber.nix",
    hw: [PIIX_IDE, UHCI, VIRTIO_BLK_PCI, VIRTIO_NET_PCI, V_BLK, V_NET],
    block: ["vda", "sr0"],
    flag: "",
  },
];

describeWithCorpus("initrd and kernel modules match nixos-generate-config on the same kind of machine", () => {
  it.each(rows)("$file", ({ file, hw, block, flag }) => {
    let t = section(LOCAL, "hardware", hw.join("\n"));
    t = section(t, "lsblk", "");
    t = section(t, "sysblock", block.map(disk).join("\n"));
    t = t.replace(/^virt_flag=.*$/m, `virt_flag=${flag}`);
    const f = parseProbeOutput(t);
    const nix = corpus(file);
    expect(f.initrdModules).toEqual(list(nix, "boot.initrd.availableKernelModules"));
    expect(f.kernelModules).toEqual(list(nix, "boot.kernelModules"));
  });
});
