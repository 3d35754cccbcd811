# Hardware of this machine, from the facts nixnode-install detected (what nixos-generate-config
# would write): a KVM/QEMU virtual machine. Regenerate with `nixnode-install plan`, or replace it with a
# nixos-facter report (hardware.facter.reportPath) for more detail.
{ config, lib, modulesPath, ... }:
{
  imports = [ (modulesPath + "/profiles/qemu-guest.nix") ];

  # Drivers the initrd needs to find the disks (and the network, for remote unlock).
  boot.initrd.availableKernelModules = [
    "ata_piix"
    "sr_mod"
    "uhci_hcd"
    "virtio_blk"
    "virtio_net"
    "virtio_pci"
  ];
  boot.kernelModules = [ ];
  hardware.cpu.intel.updateMicrocode = lib.mkDefault config.hardware.enableRedistributableFirmware;
  nixpkgs.hostPlatform = lib.mkDefault "x86_64-linux";
}
