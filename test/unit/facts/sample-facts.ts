// A complete, valid Facts object shaped like a fresh Hetzner Cloud VPS probed as root. Tests copy it
// and break one field at a time; a fresh copy each call so no test sees another's edits.
import type { Facts } from "../../../src/facts/types";

export function sampleFacts(): Facts {
  return {
    schema: 1,
    source: "probe",
    hostname: "ubuntu-4gb-nbg1-1",
    os: { id: "ubuntu", versionId: "24.04", prettyName: "Ubuntu 24.04.1 LTS", isNixos: false, isNixosInstaller: false, kernel: "6.8.0-45-generic" },
    arch: "x86_64",
    virtualisation: "kvm",
    firmware: { mode: "bios", secureBoot: false, kernelLockdown: "none", vendor: "SeaBIOS" },
    memory: { totalBytes: 4 * 1024 ** 3, swapBytes: 0 },
    cpu: { vendor: "amd", model: "AMD EPYC Processor", cores: 2 },
    disks: [
      {
        name: "sda", path: "/dev/sda", sizeBytes: 40 * 1024 ** 3, model: "QEMU HARDDISK", serial: "12345678",
        byId: ["/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_12345678"], byPath: ["/dev/disk/by-path/pci-0000:06:00.0-scsi-0:0:0:0"],
        transport: "scsi", rotational: true, removable: false, readOnly: false,
        partitions: [{ name: "sda1", path: "/dev/sda1", sizeBytes: 40 * 1024 ** 3 - 2 ** 20, fstype: "ext4", label: "cloudimg-rootfs", uuid: "0b2a7c5e-1111-2222-3333-444455556666", mountpoints: ["/"] }],
        mountpoints: ["/"], holdsRoot: true,
      },
    ],
    network: {
      interfaces: [
        { name: "lo", mac: null, driver: null, state: "unknown", mtu: 65536, kind: "loopback", addresses: [{ family: 4, address: "127.0.0.1", prefix: 8, scope: "host", dynamic: false }] },
        {
          name: "eth0", mac: "96:00:01:aa:bb:cc", driver: "virtio_net", state: "up", mtu: 1500, kind: "ethernet",
          addresses: [
            { family: 4, address: "203.0.113.7", prefix: 32, scope: "global", dynamic: false },
            { family: 6, address: "2001:db8:1:2::1", prefix: 64, scope: "global", dynamic: false },
            { family: 6, address: "fe80::9400:1ff:feaa:bbcc", prefix: 64, scope: "link", dynamic: false },
          ],
        },
      ],
      routes: [
        { family: 4, destination: "default", gateway: "172.31.1.1", dev: "eth0", onLink: true, protocol: "static", metric: null },
        { family: 6, destination: "default", gateway: "fe80::1", dev: "eth0", onLink: true, protocol: "static", metric: 1024 },
      ],
      defaultGateway4: { address: "172.31.1.1", dev: "eth0", onLink: true },
      defaultGateway6: { address: "fe80::1", dev: "eth0", onLink: true },
      dns: ["185.12.64.1", "2a01:4ff:ff00::add:1"],
      dhcp4: false,
    },
    initrdModules: ["ata_piix", "virtio_pci", "virtio_scsi", "sd_mod", "sr_mod"],
    kernelModules: ["kvm-amd"],
    provider: { vendor: "Hetzner", product: "vServer", hint: "hetzner-cloud" },
    operatorAddress: "198.51.100.23",
    access: { user: "root", isRoot: true, sudo: "root" },
    tools: { tar: true, cpio: true, setsid: true, curl: true, wget: false, kexec: false },
    bootId: "5c3e0a4e-8f8f-4c1a-9d0e-1f2a3b4c5d6e",
    warnings: [],
  };
}
