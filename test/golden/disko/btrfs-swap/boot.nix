# Boot loader for the btrfs disk layout (hybrid GPT: BIOS boot partition + ESP), from nixnode-install.
# The firmware is currently unknown; GRUB is installed for BIOS and UEFI either way.
{ ... }:
{
  boot.loader.grub = {
    enable = true;
    efiSupport = true;
    # EFI/BOOT/BOOTX64.EFI: found by any UEFI firmware without an NVRAM boot entry
    efiInstallAsRemovable = true;
    # GRUB copies each generation's kernel and initrd onto the 512M ESP: keep it from filling up
    configurationLimit = 10;
    # devices: set by disko to every disk with an EF02 partition (both disks of a mirror)
  };
  boot.loader.efi.canTouchEfiVariables = false;
}
