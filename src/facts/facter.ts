// Facts from a nixos-facter report (facter.json, report versions 1 and 2). A report describes the
// hardware only: no OS, addresses, routes, DNS, partitions or mountpoints, and (in both versions)
// no usable MAC addresses — the "hwaddr" resource holds a number, not the address. What a report
// cannot tell is filled with the schema's "unknown" value and explained in `warnings`, so the
// planner and preflight never mistake a gap for a fact.
import { badField } from "../errors";
import { isObject } from "../util/fields";
import { cleanDmi, detectProvider } from "./providers";
import type { Arch, Disk, DiskTransport, Facts, NetInterface, Virtualisation } from "./types";
import { FACTS_SCHEMA_VERSION } from "./types";
import { validateFacts } from "./validate";

type Obj = Record<string, unknown>;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : []);
const text = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
/** hwinfo writes ids either as {hex,name,value} objects or (v2, virtio) as plain strings. */
const idName = (v: unknown): string | null => (isObject(v) ? text(v.name) : text(v));

export const FACTER_VERSIONS = [1, 2] as const;

/** True when the JSON is a nixos-facter report (of any version). */
export function looksLikeFacterReport(v: unknown): boolean {
  return isObject(v) && "version" in v && isObject(v.hardware) && typeof v.system === "string";
}

export function importFacterReport(json: unknown, field = "facter report"): Facts {
  if (!looksLikeFacterReport(json)) {
    throw badField(
      field,
      "is not a nixos-facter report (no version, system and hardware sections)",
      "generate one with `nix run nixpkgs#nixos-facter -- -o facter.json` on the machine",
    );
  }
  const report = json as Obj;
  if (!(FACTER_VERSIONS as readonly unknown[]).includes(report.version)) {
    throw badField(
      `${field}.version`,
      `${JSON.stringify(report.version)} is not a report version this tool reads (1 or 2)`,
      "update nixnode-install, or regenerate the report with a nixos-facter release that writes version 1 or 2",
    );
  }
  const hw = report.hardware as Obj;
  const smbios = isObject(report.smbios) ? report.smbios : {};
  const warnings: string[] = [
    "from a nixos-facter report: it records no addresses, routes or DNS, so the network is assumed to be DHCP; run `nixnode-install detect` on the live machine to capture a static network",
    "from a nixos-facter report: MAC addresses are not recorded (interfaces cannot be matched by MAC)",
    "from a nixos-facter report: partitions and mountpoints are not recorded, so no disk is known to hold the running system",
    "from a nixos-facter report: the OS, Secure Boot, kernel lockdown, login user and installed tools are not recorded; `nixnode-install detect` checks them",
  ];
  const arch = archOf(report.system, field);
  const virtualisation = virtualisationOf(report.virtualisation, hw, warnings);
  const disks = disksOf(hw);
  const dmi = {
    systemVendor: cleanDmi(sub(smbios, "system").manufacturer),
    systemProduct: cleanDmi(sub(smbios, "system").product),
    biosVendor: cleanDmi(sub(smbios, "bios").vendor),
    chassisAssetTag: cleanDmi(sub(smbios, "chassis").asset_tag),
  };
  const facts: Facts = {
    schema: FACTS_SCHEMA_VERSION,
    source: "facter",
    hostname: null,
    os: { id: null, versionId: null, prettyName: null, isNixos: false, isNixosInstaller: false, kernel: null },
    arch,
    virtualisation,
    firmware: {
      mode: firmwareMode(report, dmi.biosVendor, warnings),
      secureBoot: null,
      kernelLockdown: null,
      vendor: dmi.biosVendor,
    },
    memory: { totalBytes: memoryOf(hw, smbios, field, warnings), swapBytes: null },
    cpu: cpuOf(hw, arch),
    disks,
    network: {
      interfaces: interfacesOf(hw),
      routes: [],
      defaultGateway4: null,
      defaultGateway6: null,
      dns: [],
      dhcp4: true,
    },
    initrdModules: initrdModulesOf(hw, disks),
    kernelModules: kvmModulesOf(hw),
    provider: {
      vendor: dmi.systemVendor,
      product: dmi.systemProduct,
      hint: detectProvider({
        ...dmi,
        diskModels: disks.map((d) => d.model ?? ""),
        virtualised: virtualisation !== "none",
      }),
    },
    operatorAddress: null,
    access: { user: null, isRoot: false, sudo: "unknown" },
    tools: { tar: false, cpio: false, setsid: false, curl: false, wget: false, kexec: false },
    bootId: null,
    warnings,
  };
  return validateFacts(facts);
}

function sub(o: Obj, k: string): Obj {
  const v = o[k];
  if (Array.isArray(v)) return list(v)[0] ?? {};
  return isObject(v) ? v : {};
}

function archOf(system: unknown, field: string): Arch {
  const cpu = typeof system === "string" ? system.split("-")[0] : undefined;
  if (cpu === "x86_64" || cpu === "aarch64" || cpu === "i686" || cpu === "riscv64") return cpu;
  if (cpu === "armv7l" || cpu === "armv7") return "armv7l";
  if (typeof system !== "string")
    throw badField(`${field}.system`, "is missing", 'the report\'s "system" should look like "x86_64-linux"');
  return "other";
}

const VIRT_MAP: Record<string, Virtualisation> = {
  none: "none",
  kvm: "kvm",
  qemu: "qemu",
  bochs: "qemu",
  xen: "xen",
  vmware: "vmware",
  microsoft: "hyperv",
  oracle: "virtualbox",
  bhyve: "bhyve",
  amazon: "kvm",
  google: "kvm",
  parallels: "other-vm",
  zvm: "other-vm",
  lxc: "lxc",
  "lxc-libvirt": "lxc",
  openvz: "openvz",
  docker: "docker",
  podman: "podman",
  "systemd-nspawn": "systemd-nspawn",
  wsl: "wsl",
  rkt: "other-container",
  proot: "other-container",
  pouch: "other-container",
};

function virtualisationOf(v: unknown, hw: Obj, warnings: string[]): Virtualisation {
  const raw = text(v) ?? "unknown";
  const mapped = VIRT_MAP[raw] ?? "unknown";
  // Vultr (and other KVM clouds) expose Hyper-V enlightenments, so the CPUID check says
  // "microsoft"; virtio devices prove the hypervisor is really KVM/QEMU.
  if (mapped === "hyperv" && hasVirtio(hw)) {
    warnings.push(
      'the report says the hypervisor is "microsoft" (Hyper-V enlightenments) but the machine has virtio devices: treated as KVM',
    );
    return "kvm";
  }
  if (mapped === "unknown" && raw !== "unknown") warnings.push(`unrecognised virtualisation "${raw}" in the report`);
  return mapped;
}

function hasVirtio(hw: Obj): boolean {
  return Object.values(hw).some((entries) =>
    list(entries).some((e) => {
      const vendor = e.vendor;
      return (
        (isObject(vendor) && vendor.value === 0x1af4) ||
        vendor === "Virtio" ||
        strings(e.driver_modules).some((m) => m.startsWith("virtio"))
      );
    }),
  );
}

function firmwareMode(report: Obj, biosVendor: string | null, warnings: string[]): Facts["firmware"]["mode"] {
  if (isObject(report.uefi) && report.uefi.supported === true) return "uefi";
  if (biosVendor && /EDK ?II|OVMF|\bEFI\b/i.test(biosVendor)) return "uefi";
  if (biosVendor && /SeaBIOS/i.test(biosVendor)) return "bios";
  warnings.push(
    `boot mode (UEFI or BIOS) is not recorded in this report${biosVendor ? ` and firmware "${biosVendor}" does not tell` : ""}; the hybrid layout boots either way`,
  );
  return "unknown";
}

function memoryOf(hw: Obj, smbios: Obj, field: string, warnings: string[]): number {
  const ranges = (type: string) =>
    list(hw.memory)
      .flatMap((m) => list(m.resources))
      .filter((r) => r.type === type)
      .map((r) => r.range);
  const sum = (xs: unknown[]) => xs.reduce<number>((a, x) => a + (typeof x === "number" && x > 0 ? x : 0), 0);
  const phys = sum(ranges("phys_mem"));
  if (phys > 0) return phys;
  const mem = sum(ranges("mem"));
  if (mem > 0) return mem;
  // Version 2 reports can leave hardware.memory empty; SMBIOS DIMM sizes are in KiB.
  const dimms = sum(list(smbios.memory_device).map((d) => d.size)) * 1024;
  if (dimms > 0) {
    warnings.push("memory size taken from the SMBIOS DIMM table (the report has no memory resource)");
    return dimms;
  }
  throw badField(
    `${field}.hardware.memory`,
    "the report records no memory size",
    "regenerate the report on the machine with a current nixos-facter",
  );
}

function cpuOf(hw: Obj, arch: Arch): Facts["cpu"] {
  const cpus = list(hw.cpu);
  const first = cpus[0] ?? {};
  const vendorName = text(first.vendor_name) ?? "";
  const vendor =
    arch === "aarch64" || arch === "armv7l"
      ? "arm"
      : /GenuineIntel/.test(vendorName)
        ? "intel"
        : /AuthenticAMD/.test(vendorName)
          ? "amd"
          : "other";
  // One entry per socket; sum the cores of each.
  const perSocket = new Map<unknown, number>();
  for (const c of cpus) if (typeof c.cores === "number") perSocket.set(c.physical_id ?? perSocket.size, c.cores);
  const cores = perSocket.size > 0 ? [...perSocket.values()].reduce((a, b) => a + b, 0) : null;
  return { vendor, model: text(first.model_name), cores: cores && cores > 0 ? cores : null };
}

function kvmModulesOf(hw: Obj): string[] {
  const features = new Set(list(hw.cpu).flatMap((c) => strings(c.features)));
  return [...(features.has("vmx") ? ["kvm-intel"] : []), ...(features.has("svm") ? ["kvm-amd"] : [])];
}

/** Block devices that are not disks one could install to: compressed RAM, loops, floppies, eMMC boot areas. */
const NOT_A_DISK = /^(zram|loop|ram|fd|sr|nbd|md)\d+$|^mmcblk\d+(boot\d+|rpmb)$/;

function deviceName(e: Obj, classDir: "block" | "net"): string | null {
  const fromSysfs = text(e.sysfs_id)?.match(new RegExp(`/class/${classDir}/([^/]+)$`))?.[1];
  const unix = text(e.unix_device_name)?.replace(/^\/dev\//, "");
  return fromSysfs ?? unix ?? null;
}

function disksOf(hw: Obj): Disk[] {
  const disks: Disk[] = [];
  for (const d of list(hw.disk)) {
    const name = deviceName(d, "block");
    if (!name || NOT_A_DISK.test(name)) continue;
    const links = strings(d.unix_device_names);
    const size = list(d.resources).find((r) => r.type === "size" && r.unit === "sectors");
    const sizeBytes =
      size && typeof size.value_1 === "number" && typeof size.value_2 === "number" ? size.value_1 * size.value_2 : 0;
    // A card reader or drive without a medium: nothing to install to.
    if (sizeBytes === 0 || (isObject(d.is) && d.is.not_ready === true)) continue;
    const usb = strings(d.class_list).includes("usb") || strings(d.driver_modules).includes("usb_storage");
    const model = text(d.model);
    disks.push({
      name,
      path: `/dev/${name}`,
      sizeBytes,
      model: model === "Disk" ? null : model,
      serial: text(d.serial),
      byId: rankById(links.filter((l) => l.startsWith("/dev/disk/by-id/"))),
      byPath: links.filter((l) => l.startsWith("/dev/disk/by-path/")),
      transport: transportOf(d, name, usb),
      rotational: false,
      removable: usb,
      readOnly: false,
      partitions: [],
      mountpoints: [],
      // The installer's own boot medium shows up as /dev/root; that is the only root hint a report has.
      holdsRoot: links.includes("/dev/root"),
    });
  }
  return disks;
}

/** Best stable name first: model+serial names, then namespace/partition-suffixed ones, wwn-/eui. last. */
export function rankById(links: string[]): string[] {
  const rank = (l: string) => {
    const base = l.slice("/dev/disk/by-id/".length);
    if (/^(wwn-|nvme-eui\.|nvme-nvme\.)/.test(base)) return 2;
    if (/_\d+$/.test(base)) return 1;
    return 0;
  };
  return links
    .map((l, i) => ({ l, i, r: rank(l) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.l);
}

function transportOf(d: Obj, name: string, usb: boolean): DiskTransport {
  if (usb) return "usb";
  const bus = idName(d.bus_type);
  const mods = strings(d.driver_modules);
  if (bus === "NVME" || name.startsWith("nvme")) return "nvme";
  if (mods.includes("virtio_blk") || name.startsWith("vd")) return "virtio";
  if (bus === "IDE" || mods.includes("ahci") || mods.includes("ata_piix")) return "sata";
  if (bus === "SCSI" || mods.includes("virtio_scsi") || mods.includes("sd_mod")) return "scsi";
  if (name.startsWith("mmcblk")) return "mmc";
  if (name.startsWith("xvd")) return "xen";
  return "unknown";
}

function interfacesOf(hw: Obj): NetInterface[] {
  const out: NetInterface[] = [];
  for (const n of list(hw.network_interface)) {
    const name = deviceName(n, "net");
    if (!name || out.some((o) => o.name === name)) continue;
    out.push({
      name,
      mac: null,
      driver: strings(n.driver_modules)[0] ?? text(n.driver_module),
      state: "unknown",
      mtu: null,
      kind: interfaceKind(name, idName(n.sub_class)),
      addresses: [],
    });
  }
  return out;
}

function interfaceKind(name: string, subClass: string | null): NetInterface["kind"] {
  if (subClass === "Loopback" || name === "lo") return "loopback";
  if (/^wl/.test(name)) return "wlan";
  if (subClass === "Ethernet") return "ethernet";
  return "other"; // USB-Link (BMC usb0), CAN buses...
}

/**
 * boot.initrd.availableKernelModules as nixos-generate-config / nixos-facter-modules derive it:
 * drivers of storage, firewire and USB controllers, disks and CD-ROMs, plus Ethernet NIC drivers
 * (so an initrd SSH unlock can be added later). Modules implied by the disks' transport are added
 * when the report left the driver out (Jetson NVMe).
 */
function initrdModulesOf(hw: Obj, disks: Disk[]): string[] {
  const mods = new Set<string>();
  const add = (entries: unknown) => list(entries).forEach((e) => strings(e.driver_modules).forEach((m) => mods.add(m)));
  ["storage_controller", "usb_controller", "firewire_controller", "disk", "cdrom"].forEach((k) => add(hw[k]));
  const ethernet = list(hw.network_interface).filter(
    (n) =>
      interfaceKind(deviceName(n, "net") ?? "", idName(n.sub_class)) === "ethernet" &&
      !strings(n.class_list).includes("usb"),
  );
  ethernet.forEach((n) => strings(n.driver_modules).forEach((m) => mods.add(m)));
  for (const d of disks) {
    if (d.transport === "nvme") mods.add("nvme");
    if (d.transport === "virtio") {
      mods.add("virtio_pci");
      mods.add("virtio_blk");
    }
    if (d.transport === "usb") {
      mods.add("usb_storage");
      mods.add("sd_mod");
    }
  }
  mods.delete("floppy");
  return [...mods].sort();
}
