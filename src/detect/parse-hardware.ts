// Probe sections about the machine itself -> virtualisation, CPU, initrd modules, provider. Pure.
import { detectProvider } from "../facts/providers";
import type { Arch, Disk, Facts, Virtualisation } from "../facts/types";

/** systemd-detect-virt's vocabulary -> ours. */
const DETECT_VIRT: Record<string, Virtualisation> = {
  none: "none",
  kvm: "kvm",
  amazon: "kvm",
  google: "kvm",
  qemu: "qemu",
  bochs: "qemu",
  xen: "xen",
  vmware: "vmware",
  microsoft: "hyperv",
  oracle: "virtualbox",
  bhyve: "bhyve",
  lxc: "lxc",
  "lxc-libvirt": "lxc",
  openvz: "openvz",
  docker: "docker",
  podman: "podman",
  "systemd-nspawn": "systemd-nspawn",
  wsl: "wsl",
};

export function virtualisationFrom(
  v: Map<string, string>,
  dmiProduct: string | null,
  dmiVendor: string | null,
): Virtualisation {
  const detected = v.get("detect_virt") ?? "";
  let kind: Virtualisation | null = detected
    ? (DETECT_VIRT[detected] ??
      (["rkt", "proot", "pouch", "container-other"].includes(detected) ? "other-container" : "other-vm"))
    : null;
  // Fallbacks for systems without systemd (and the NixOS installer's minimal tools).
  if (!kind) {
    const env = v.get("container_env") ?? "";
    if (v.get("beancounters") === "yes") kind = "openvz";
    else if (env) kind = DETECT_VIRT[env] ?? (env.startsWith("lxc") ? "lxc" : "other-container");
    else if (v.get("dockerenv") === "yes") kind = "docker";
    else if (v.get("containerenv") === "yes") kind = "podman";
    else if (v.get("proc_xen") === "yes" || v.get("hypervisor_type") === "xen") kind = "xen";
    else if (/KVM|QEMU|Standard PC/i.test(`${dmiProduct} ${dmiVendor}`)) kind = "kvm";
    else if (/VMware/i.test(`${dmiProduct} ${dmiVendor}`)) kind = "vmware";
    else if (/Virtual Machine/i.test(dmiProduct ?? "")) kind = "hyperv";
    else if (/VirtualBox/i.test(dmiProduct ?? "")) kind = "virtualbox";
    else if (v.get("cpu_hypervisor_flag") === "1") kind = "other-vm";
    else if (v.has("cpu_hypervisor_flag")) kind = "none";
    else kind = "unknown";
  }
  // Xen paravirtualised guests cannot kexec into the installer: tell them apart from HVM.
  if (kind === "xen") {
    const guest = (v.get("xen_guest_type") ?? "").toUpperCase();
    if (guest === "PV") return "xen-pv";
    if (!guest && v.get("proc_xen") === "yes" && !(v.get("xen_caps") ?? "").includes("control_d") && !dmiProduct)
      return "xen-pv";
  }
  return kind;
}

export function archFrom(uname: string | undefined): Arch {
  switch (uname) {
    case "x86_64":
    case "amd64":
      return "x86_64";
    case "aarch64":
    case "arm64":
      return "aarch64";
    case "i386":
    case "i586":
    case "i686":
      return "i686";
    case "armv7l":
      return "armv7l";
    case "riscv64":
      return "riscv64";
    default:
      return "other";
  }
}

export function cpuFrom(cpuinfo: string, arch: Arch, nproc: string | undefined): Facts["cpu"] {
  const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.+)$`, "m").exec(cpuinfo)?.[1]?.trim() ?? null;
  const vendorId = field("vendor_id");
  const vendor =
    vendorId === "GenuineIntel"
      ? "intel"
      : vendorId === "AuthenticAMD"
        ? "amd"
        : arch === "aarch64" || arch === "armv7l" || field("CPU implementer")
          ? "arm"
          : "other";
  const cores = Number(nproc);
  return { vendor, model: field("model name"), cores: Number.isInteger(cores) && cores > 0 ? cores : null };
}

/** Module names for drivers that are built under a different name (sysfs shows the driver). */
const DRIVER_MODULE: Record<string, string> = {
  xhci_hcd: "xhci_pci",
  "ehci-pci": "ehci_pci",
  "ohci-pci": "ohci_pci",
  sd: "sd_mod",
  sr: "sr_mod",
  vbd: "xen_blkfront",
};
const VIRTIO_STORAGE: Record<string, string> = { "0x0002": "virtio_blk", "0x0008": "virtio_scsi" };

/**
 * What the initrd must be able to load to find the root disk, as nixos-generate-config decides it:
 * drivers of PCI storage (class 01) and USB (0c03) controllers, virtio transport + storage, and
 * the SCSI disk layer. Built-in drivers have no module link, so the driver name stands in.
 */
export function initrdModulesFrom(
  hardware: string,
  disks: Disk[],
  virt: Virtualisation,
  blockNames: string[] = [],
): string[] {
  const mods = new Set<string>();
  const moduleOf = (module: string, driver: string) =>
    module ? module : driver ? (DRIVER_MODULE[driver] ?? driver.replace(/-/g, "_")) : "";
  for (const line of hardware.split("\n")) {
    const f = Object.fromEntries(
      line
        .split(" ")
        .slice(2)
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    if (line.startsWith("pci ")) {
      const cls = f.class ?? "";
      if (f.vendor === "0x1af4") mods.add("virtio_pci");
      if (cls.startsWith("0x01") || cls.startsWith("0x0c03")) {
        const m = moduleOf(f.module ?? "", f.driver ?? "");
        if (m) mods.add(m);
      }
    } else if (line.startsWith("virtio ")) {
      const m = VIRTIO_STORAGE[f.device ?? ""];
      if (m) mods.add(m);
    } else if (line.startsWith("block ")) {
      const m = moduleOf(f.module ?? "", f.driver ?? "");
      if (m && /^(sd_mod|sr_mod|virtio_blk|xen_blkfront|nvme|mmc_block)$/.test(m)) mods.add(m);
    }
  }
  if (disks.some((d) => /^sd[a-z]+$/.test(d.name))) mods.add("sd_mod");
  if (disks.some((d) => d.transport === "nvme")) mods.add("nvme");
  if (disks.some((d) => d.transport === "virtio")) mods.add("virtio_blk");
  if (disks.some((d) => d.transport === "xen")) mods.add("xen_blkfront");
  if (disks.some((d) => d.transport === "usb")) mods.add("usb_storage");
  if (virt === "hyperv") mods.add("hv_storvsc");
  if (blockNames.some((n) => /^sr\d+$/.test(n))) mods.add("sr_mod"); // a CD-ROM drive, as nixos-generate-config lists it
  return [...mods].filter(Boolean).sort();
}

export function kernelModulesFrom(virtFlag: string | undefined): string[] {
  return virtFlag === "vmx" ? ["kvm-intel"] : virtFlag === "svm" ? ["kvm-amd"] : [];
}

/** The provider, from the one table (facts/providers.ts) that nixos-facter imports use too. */
export function providerFrom(
  vendor: string | null,
  product: string | null,
  others: Array<string | null>,
  virt: Virtualisation,
  diskModels: string[] = [],
): Facts["provider"] {
  const hint = detectProvider({
    systemVendor: vendor,
    systemProduct: product,
    biosVendor: null,
    chassisAssetTag: null,
    others,
    diskModels,
    virtualised: virt !== "none" && virt !== "unknown",
  });
  return { vendor, product, hint };
}
