# hosts/btc2/default.nix: YOUR module for this machine. Edit freely: install and lockdown
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

  # Bitcoin: full chain in /data/bitcoind on the data disk (1.9 TB); bitcoind does not start without that disk mounted.
  services.bitcoind.dataDir = "/data/bitcoind";
  services.bitcoind.prune = 0; # MiB of block files; 0 keeps the full chain
  # The data disk is mounted nofail (the machine boots without it); bitcoind must not: without
  # the disk it would start a fresh chain on the system disk and fill it.
  systemd.services.bitcoind.unitConfig.RequiresMountsFor = [ "/data/bitcoind" ];

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
