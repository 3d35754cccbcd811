# hosts/observer2/default.nix: YOUR module for this machine. Edit freely: install and lockdown
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
