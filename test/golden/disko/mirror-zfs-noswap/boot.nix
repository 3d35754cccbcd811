# Boot loader for the mirror-zfs disk layout (hybrid GPT: BIOS boot partition + ESP), from nixnode-install.
# The firmware is currently BIOS; GRUB is installed for BIOS and UEFI either way.
{ lib, ... }:
{
  boot.loader.grub = {
    enable = true;
    efiSupport = true;
    # EFI/BOOT/BOOTX64.EFI: found by any UEFI firmware without an NVRAM boot entry
    efiInstallAsRemovable = true;
    # GRUB copies each generation's kernel and initrd onto the 512M ESP: keep it from filling up
    configurationLimit = 10;
    # one ESP per disk, each with its own GRUB: the machine boots from whichever disk is left
    devices = lib.mkForce [ ];
    mirroredBoots = [
      { path = "/boot"; efiSysMountPoint = "/boot"; devices = [ "/dev/disk/by-id/nvme-SAMSUNG_MZVL21T0HCLR-00B00_S676NF0R908202" ]; }
      { path = "/boot-fallback"; efiSysMountPoint = "/boot-fallback"; devices = [ "/dev/disk/by-id/nvme-SAMSUNG_MZVL21T0HCLR-00B00_S676NF0R908215" ]; }
    ];
  };
  boot.loader.efi.canTouchEfiVariables = false;
  # ZFS refuses to import a pool on a machine with another host id; derived from the disks,
  # so re-rendering the flake keeps it
  networking.hostId = "3b8e5124";
}
