# nixnode-install disk layout "ext4": one disk, hybrid GPT that boots on BIOS AND UEFI.
#   [1M BIOS boot (EF02)][512M ESP vfat /boot][swap][rest ext4 /]
# GRUB goes into the EF02 partition for BIOS machines and, as EFI/BOOT/BOOTX64.EFI (the removable
# path, no NVRAM entry needed), onto the ESP for UEFI machines. The matching boot.loader settings
# are in boot.nix, generated next to this file.
# Evaluates on its own with the defaults below; nixnode-install renders a copy with your disks.
{
  lib ? null,
  # the system disk; /dev/disk/by-id/... names survive reboots and kexec, /dev/sdX names do not
  disks ? [ "/dev/vda" ],
  # swap partition size ("4G", "512M") or null for no swap
  swapSize ? "2G",
  # optional separate data disk that a reinstall never reformats, e.g.
  # { device = "/dev/disk/by-id/..."; mountpoint = "/data"; filesystem = "ext4"; }
  data ? null,
  ...
}:
let
  # nixnode:data-disk:begin
  # The data disk (e.g. the blockchain). disko's destroy step skips it (destroy = false, disko
  # >= 1.12) and its create step runs mkfs only when blkid finds no signature at all on the disk,
  # so a reinstall mounts the existing filesystem instead of formatting it. nofail: the machine
  # still boots (and answers SSH) when this disk is missing or broken.
  dataDisks =
    if data == null then
      { }
    else
      {
        data = {
          type = "disk";
          device = data.device;
          destroy = false;
          content = {
            type = "filesystem";
            format = data.filesystem;
            mountpoint = data.mountpoint;
            mountOptions = [
              "noatime"
              "nofail"
            ];
          };
        };
      };
  # nixnode:data-disk:end
in
{
  disko.devices.disk = {
    main = {
      type = "disk";
      device = builtins.elemAt disks 0;
      content = {
        type = "gpt";
        partitions = {
          # GRUB's core image on BIOS machines; without it GRUB cannot install on BIOS+GPT
          bios = {
            priority = 1;
            size = "1M";
            type = "EF02";
          };
          ESP = {
            priority = 2;
            size = "512M";
            type = "EF00";
            content = {
              type = "filesystem";
              format = "vfat";
              mountpoint = "/boot";
              mountOptions = [ "umask=0077" ];
            };
          };
          root = {
            priority = 4;
            size = "100%";
            content = {
              type = "filesystem";
              format = "ext4";
              mountpoint = "/";
            };
          };
        }
        // (
          if swapSize == null then
            { }
          else
            {
              swap = {
                priority = 3;
                size = swapSize;
                content = {
                  type = "swap";
                  discardPolicy = "both";
                };
              };
            }
        );
      };
    };
  }
  // dataDisks;
}
