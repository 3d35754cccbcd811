// How each bundled example machine is built from the real captures in shared/corpus. Used by
// scripts/make-examples.mjs to write src/facts/examples/*.json, and by the tests to prove those
// files still equal what the captures give. Not imported by the CLI (it reads the JSON files).
import { importFacterReport } from "./facter";
import { parseNixosInfectNetwork } from "./nixos-infect-network";
import type { Facts } from "./types";
import { validateFacts } from "./validate";

export interface ExampleSource {
  description: string;
  /** corpus-relative path of the nixos-facter report */
  facter: string;
  /** corpus-relative path of a nixos-infect networking.nix giving the static network, if any */
  network?: string;
}

export const EXAMPLE_SOURCES: Record<string, ExampleSource> = {
  "hetzner-cloud": {
    description:
      "Hetzner Cloud x86_64 VM (8 GB, virtio-scsi disk). Hardware from a real nixos-facter report; the static network " +
      "(IPv4 /32 with on-link gateway 172.31.1.1, IPv6 /64 via fe80::1, Hetzner resolvers) from a real nixos-infect " +
      "capture of ANOTHER Hetzner Cloud VM, combined because no single public capture has both",
    facter: "facter/hetzner-cloud-x86-8gb_25huizengek1-infra.json",
    network: "network-nixos-infect/hetzner-cloud-ipv4-32-ipv6-64_tahoe-lafs-webforge.nix",
  },
  "hetzner-dedicated": {
    description:
      "Hetzner dedicated server (ASRockRack B450D4U, AMD, 128 GB, 2 NVMe) from a real nixos-facter report; network assumed DHCP",
    facter: "facter/hetzner-robot-b450d4u-2nvme-128gb_mic92-eve.json",
  },
  "netcup-vps": {
    description:
      "netcup KVM server (4 GB, SeaBIOS, one virtio disk without a serial) from a real nixos-facter report; network assumed DHCP",
    facter: "facter/netcup-kvm-4gb_zmberber-supersmash.json",
  },
  "proxmox-2disks": {
    description:
      "Proxmox VM (4 GB, SeaBIOS, 16 GiB system disk + 1 GiB second disk on virtio-scsi) from a real nixos-facter report",
    facter: "facter/proxmox-vm-2disks_thecowboyai.json",
  },
  "oracle-micro-1gb": {
    description:
      "Oracle Cloud E2.1.Micro (960 MiB RAM, UEFI): preflight refuses it, the kexec installer needs 1 GiB. From a real nixos-facter report",
    facter: "facter/oracle-cloud-x86-micro-1gb_christoph00-oc1.json",
  },
  "latitude-baremetal": {
    description:
      "Latitude.sh bare metal (Supermicro, Intel, 32 GB, one SATA SSD, 2 igb NICs) from a real nixos-facter report",
    facter: "facter/latitude-sh-supermicro-x11sce-1sata_latitudesh-examples.json",
  },
};

/** Builds one example's Facts; `read` returns a corpus file's text. */
export function buildExampleFacts(name: string, read: (corpusPath: string) => string): Facts {
  const src = EXAMPLE_SOURCES[name];
  if (!src) throw new Error(`no example source named ${name}`);
  const facts: Facts = { ...importFacterReport(JSON.parse(read(src.facter))), source: "example" };
  facts.warnings = [`example machine: ${src.description}`, ...facts.warnings];
  if (src.network) {
    const net = parseNixosInfectNetwork(read(src.network), src.network);
    // The capture names the interface eth0 and pins it by MAC; the driver is the report's.
    const nic = facts.network.interfaces.find((i) => i.kind === "ethernet");
    net.interfaces = net.interfaces.map((i) => ({ ...i, driver: nic?.driver ?? null }));
    const lo = facts.network.interfaces.filter((i) => i.kind === "loopback");
    facts.network = { ...net, interfaces: [...lo, ...net.interfaces] };
    facts.warnings = facts.warnings
      .map((w) =>
        w.includes("no addresses, routes or DNS")
          ? `network from ${src.network}: static addresses, routes and DNS as nixos-infect captured them`
          : w,
      )
      .filter((w) => !w.includes("MAC addresses are not recorded"));
  }
  return validateFacts(facts);
}
