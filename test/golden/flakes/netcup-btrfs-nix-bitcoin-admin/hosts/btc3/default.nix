# hosts/btc3/default.nix: YOUR module for this machine. Edit freely: install and lockdown
# never touch it (only `plan --force` would replace it). What the tool manages (SSH ports and keys,
# firewall, fail2ban, the network) is data in host.json, applied by nixnode.nix and network.nix.
{ lib, pkgs, ... }:
{
  imports = [
    ./disk-config.nix
    ./boot.nix
    ./nixnode.nix
    ./network.nix
    ./hardware.nix
  ]
  # lockdown.nix appears when `nixnode-install lockdown` has confirmed key-only SSH on the new port.
  ++ lib.optional (builtins.pathExists ./lockdown.nix) ./lockdown.nix;

  # Bitcoin: pruned to 4000 MiB of blocks: no data disk, and the system disk (82 GB after swap) is smaller than the 1 TB a full chain needs.
  services.bitcoind.prune = 4000; # MiB of block files; 0 keeps the full chain

  # Flakes on the node itself, so that it can rebuild from a copy of this folder.
  nix.settings.experimental-features = [
    "nix-command"
    "flakes"
  ];

  environment.systemPackages = with pkgs; [
    git
    htop
    tmux
  ];
}
