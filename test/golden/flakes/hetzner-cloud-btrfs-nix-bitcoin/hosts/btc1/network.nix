# Managed by nixnode-install: the network this machine had before the install, carried over so
# that it answers again after the first boot. One systemd-networkd unit per interface, matched by
# MAC address (interface names can change with the new kernel): DHCP where the old system used
# DHCP, the exact static addresses and routes where it did not, gateways outside the address's
# prefix marked on-link (Hetzner's 172.31.1.1 on a /32, fe80::1 for IPv6). Data: host.json "network".
{ lib, ... }:
let
  net = (builtins.fromJSON (builtins.readFile ./host.json)).network;
  unitFor = iface: {
    name = "10-${iface.name}";
    value = {
      # mac "" (no MAC was captured, e.g. from a nixos-facter report): every wired interface
      matchConfig = if iface.mac != "" then { MACAddress = iface.mac; } else { Type = "ether"; };
      networkConfig = {
        DHCP = if iface.dhcp4 then "ipv4" else "no";
        IPv6AcceptRA = iface.ipv6AcceptRA;
      };
      address = iface.addresses;
      routes = map (r: {
        Destination = r.destination;
        Gateway = r.gateway;
        GatewayOnLink = r.onLink;
      }) iface.routes;
      linkConfig.RequiredForOnline = "routable";
    };
  };
in
{
  networking.useDHCP = false;
  networking.useNetworkd = true;
  systemd.network.enable = true;
  systemd.network.networks = builtins.listToAttrs (map unitFor net.interfaces);
  networking.nameservers = lib.mkIf (net.dns != [ ]) net.dns;
}
