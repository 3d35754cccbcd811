# Hardware of this machine, from the facts nixnode-install detected (what nixos-generate-config
# would write): bare metal. Regenerate with `nixnode-install plan`, or replace it with a
# nixos-facter report (hardware.facter.reportPath) for more detail.
{ config, lib, modulesPath, ... }:
{
  imports = [ (modulesPath + "/installer/scan/not-detected.nix") ];

  # Drivers the initrd needs to find the disks (and the network, for remote unlock).
  boot.initrd.availableKernelModules = [
    "ahci"
    "igb"
    "nvme"
    "xhci_pci"
  ];
  boot.kernelModules = [
    "kvm-amd"
  ];
  hardware.cpu.amd.updateMicrocode = lib.mkDefault config.hardware.enableRedistributableFirmware;
  hardware.enableRedistributableFirmware = lib.mkDefault true;
  nixpkgs.hostPlatform = lib.mkDefault "x86_64-linux";
}
