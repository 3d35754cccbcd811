# nixnode-install disk layout "mirror-zfs": two disks, a ZFS mirror "rpool" (checksums catch and
# repair silent corruption from either copy; snapshots are cheap). Each disk gets a hybrid GPT:
#   [1M BIOS boot (EF02)][512M ESP][swap, mdadm RAID1 "swap"][rest: ZFS, mirror rpool]
#   rpool datasets: root /, nix /nix, home /home (legacy mounts), reserved (space kept free)
# The two ESPs are NOT mirrored block by block: the first is /boot, the second /boot-fallback,
# and GRUB installs onto both (boot.loader.grub.mirroredBoots in boot.nix, generated next to this file,
# which also sets the networking.hostId that ZFS requires). Both are mounted with nofail, so the
# machine still boots when either disk is gone.
# Swap is mdadm RAID1, not a zvol: swap on a zvol can deadlock under memory pressure (OpenZFS).
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
  # the same partitions on each disk; only the ESP's mountpoint differs
  member = device: espMountpoint: {
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
            type = "filesystem";
            format = "vfat";
            mountpoint = espMountpoint;
            mountOptions = [
              "umask=0077"
              "nofail"
            ];
          };
        };
        zfs = {
          priority = 4;
          size = "100%";
          content = {
            type = "zfs";
            pool = "rpool";
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
      a = member (builtins.elemAt disks 0) "/boot";
      b = member (builtins.elemAt disks 1) "/boot-fallback";
    }
    // dataDisks;
    zpool.rpool = {
      type = "zpool";
      mode = "mirror";
      # 4K sectors even where a disk claims 512 bytes; a pool cannot change this later
      options.ashift = "12";
      rootFsOptions = {
        compression = "zstd";
        acltype = "posixacl";
        xattr = "sa";
        atime = "off";
        mountpoint = "none";
        "com.sun:auto-snapshot" = "false";
      };
      datasets = {
        root = {
          type = "zfs_fs";
          mountpoint = "/";
          options.mountpoint = "legacy";
        };
        nix = {
          type = "zfs_fs";
          mountpoint = "/nix";
          options.mountpoint = "legacy";
        };
        home = {
          type = "zfs_fs";
          mountpoint = "/home";
          options.mountpoint = "legacy";
        };
        # never mounted: keeps 1G free so that a full pool can still delete files and snapshots
        reserved = {
          type = "zfs_fs";
          options = {
            mountpoint = "none";
            refreservation = "1G";
          };
        };
      };
    };
    mdadm =
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
        };
  };
}
