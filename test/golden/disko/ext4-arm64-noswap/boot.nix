# Boot loader for the ext4 disk layout (hybrid GPT: BIOS boot partition + ESP), from nixnode-install.
# aarch64 has no BIOS: GRUB boots through UEFI only.
{ lib, ... }:
{
  boot.loader.grub = {
    enable = true;
    efiSupport = true;
    # EFI/BOOT/BOOTX64.EFI: found by any UEFI firmware without an NVRAM boot entry
    efiInstallAsRemovable = true;
    # GRUB copies each generation's kernel and initrd onto the 512M ESP: keep it from filling up
    configurationLimit = 10;
    # disko lists the disks with an EF02 partition; there is no BIOS GRUB on aarch64
    devices = lib.mkForce [ "nodev" ];
  };
  boot.loader.efi.canTouchEfiVariables = false;
}
