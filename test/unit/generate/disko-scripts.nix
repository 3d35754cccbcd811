# The scripts nixos-anywhere actually runs, from a layout file, with real disko (test helper).
# ../../../../shared/tools/nix-lab/eval-disko.nix exposes create/mount; the destroy step that
# decides which disks get WIPED on a (re)install is only in `_disko` (diskoScript, what
# `nixos-anywhere --disko-mode disko` runs) and `_destroyFormatMount` (`disko --mode destroy,format,mount`).
#   nix-instantiate --eval --strict --json disko-scripts.nix --arg diskoFile ./x.nix \
#     --arg disko /path/to/disko --arg nixpkgsLib /path/to/nixpkgs.lib [--argstr argsJson '{"disks":[...]}']
{
  diskoFile,
  disko,
  nixpkgsLib,
  # extra arguments for a layout that is a function (as `disko --arg` passes them), as JSON
  argsJson ? "{}",
  # true: import the file the way the generated flake does (`imports = [ ./disk-config.nix ]`), so
  # the module system calls it; a function's argument defaults do NOT apply there
  asModule ? false,
}:
let
  args = builtins.fromJSON argsJson;
  lib = import (nixpkgsLib + "/lib");
  diskoLib = import (disko + "/lib") { inherit lib; };
  raw = import diskoFile;
  eval = lib.evalModules {
    modules = [
      { options.disko.devices = lib.mkOption { type = diskoLib.toplevel; }; }
      (
        if asModule then
          diskoFile
        else
          lib.setDefaultModuleLocation diskoFile (
            if builtins.isFunction raw then raw ({ inherit lib; } // args) else raw
          )
      )
    ];
  };
  devices = eval.config.disko.devices;
in
{
  disks = lib.mapAttrs (_: d: { inherit (d) device destroy; }) devices.disk;
  mountpoints = lib.attrNames (lib.foldl' (a: b: a // b) { } (devices._config.fileSystems.contents or [ ]));
  # swap partitions and swap files, by device path
  swap = map (s: s.device) (lib.flatten (devices._config.swapDevices.contents or [ ]));
  # the NixOS boot settings disko derives (grub.devices from every disk with an EF02 partition, swraid)
  grubDevices = lib.concatMap (b: b.loader.grub.devices or [ ]) (devices._config.boot.contents or [ ]);
  swraid = lib.any (b: b.swraid.enable or false) (devices._config.boot.contents or [ ]);
  # the wipe step of `disko` mode and of destroy,format,mount mode
  destroy = devices._legacyDestroy;
  destroyStrict = devices._destroy;
  create = devices._create;
  mount = devices._mount;
}
