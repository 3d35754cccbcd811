# nixnode-install disk layout "btrfs": one disk, hybrid GPT (boots on BIOS AND UEFI), btrfs with
# subvolumes, so that / can be rolled back or snapshotted apart from /home and /nix.
#   [1M BIOS boot (EF02)][512M ESP vfat /boot][rest btrfs: @root /, @home /home, @nix /nix, @swap]
# Swap is a swapfile in its own subvolume (@swap, mounted at /.swapvol): btrfs excludes it from
# snapshots and compression. The matching boot.loader settings are in boot.nix.
# Evaluates on its own with the defaults below; nixnode-install renders a copy with your disks.
{
  lib ? null,
  # the system disk; /dev/disk/by-id/... names survive reboots and kexec, /dev/sdX names do not
  disks ? [ "/dev/vda" ],
  # swapfile size ("4G", "512M") or null for no swap
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
            priority = 3;
            size = "100%";
            content = {
              type = "btrfs";
              # mkfs.btrfs refuses a partition where it still finds an old signature; this one is new
              extraArgs = [ "-f" ];
              subvolumes = {
                "@root" = {
                  mountpoint = "/";
                  mountOptions = [ "compress=zstd" ];
                };
                "@home" = {
                  mountpoint = "/home";
                  mountOptions = [ "compress=zstd" ];
                };
                "@nix" = {
                  mountpoint = "/nix";
                  mountOptions = [
                    "compress=zstd"
                    "noatime"
                  ];
                };
              }
              // (
                if swapSize == null then
                  { }
                else
                  {
                    "@swap" = {
                      mountpoint = "/.swapvol";
                      mountOptions = [ "noatime" ];
                      swap.swapfile.size = swapSize;
                    };
                  }
              );
            };
          };
        };
      };
    };
  }
  // dataDisks;
}
