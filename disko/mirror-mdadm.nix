# nixnode-install disk layout "mirror-mdadm": two disks, mdadm RAID1, the machine keeps running
# and booting when either disk dies. Each disk gets the same hybrid GPT (boots on BIOS AND UEFI):
#   [1M BIOS boot (EF02)][512M ESP, RAID1 "boot"][swap, RAID1 "swap"][rest, RAID1 "root"]
#   md "boot": vfat /boot, metadata 1.0 (at the END of the partition, so the firmware and GRUB see
#              a plain FAT filesystem on either disk); md "root": ext4 /; md "swap": swap.
# GRUB is installed into the EF02 partition of BOTH disks (disko lists every disk with an EF02
# partition in boot.loader.grub.devices) and, for UEFI, onto the mirrored ESP. The matching
# boot.loader settings are in boot.nix, generated next to this file.
# Evaluates on its own with the defaults below; nixnode-install renders a copy with your disks.
{
  lib ? null,
  # the two system disks (similar size; the mirror gets the smaller one's size)
  disks ? [
    "/dev/vda"
    "/dev/vdb"
  ],
  # swap size ("4G", "512M") or null for no swap; mirrored too, so a dying disk cannot take
  # swapped-out memory with it
  swapSize ? "2G",
  # optional separate data disk that a reinstall never reformats, e.g.
  # { device = "/dev/disk/by-id/..."; mountpoint = "/data"; filesystem = "ext4"; }
  data ? null,
  ...
}:
let
  # the same partitions on each disk, each a member of the arrays below
  member = device: {
    type = "disk";
    inherit device;
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
            type = "mdraid";
            name = "boot";
          };
        };
        root = {
          priority = 4;
          size = "100%";
          content = {
            type = "mdraid";
            name = "root";
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
                type = "mdraid";
                name = "swap";
              };
            };
          }
      );
    };
  };
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
  disko.devices = {
    disk = {
      a = member (builtins.elemAt disks 0);
      b = member (builtins.elemAt disks 1);
    }
    // dataDisks;
    mdadm = {
      boot = {
        type = "mdadm";
        level = 1;
        metadata = "1.0";
        content = {
          type = "filesystem";
          format = "vfat";
          mountpoint = "/boot";
          mountOptions = [ "umask=0077" ];
        };
      };
      root = {
        type = "mdadm";
        level = 1;
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
            type = "mdadm";
            level = 1;
            content = {
              type = "swap";
            };
          };
        }
    );
  };
}
