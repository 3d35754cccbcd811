# Boot loader for the mirror-mdadm disk layout (hybrid GPT: BIOS boot partition + ESP), from nixnode-install.
# The firmware is currently BIOS; GRUB is installed for BIOS and UEFI either way.
{ pkgs, ... }:
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
  # mdadm's monitor needs somewhere to report a failing disk, or it crashes (nixpkgs #254807):
  # write events such as `Fail /dev/md/root /dev/nvme0n1p4` to the journal (journalctl -t mdadm)
  boot.swraid.mdadmConf = "PROGRAM ${pkgs.writeShellScript "mdadm-event" ''
    exec ${pkgs.util-linux}/bin/logger -t mdadm -p daemon.warning -- "$@"
  ''}";
}
