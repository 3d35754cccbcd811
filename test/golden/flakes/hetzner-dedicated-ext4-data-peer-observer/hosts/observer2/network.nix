# Managed by nixnode-install: the network this machine had before the install, carried over so
# that it answers again after the first boot. One systemd-networkd unit per interface, matched by
# MAC address (interface names can change with the new kernel): DHCP where the old system used
# DHCP, the exact static addresses and routes where it did not, gateways outside the address's
# prefix marked on-link (Hetzner's 172.31.1.1 on a /32, fe80::1 for IPv6). Data: host.json "network".
#
# Boot waits (systemd-networkd-wait-online) only for the interface that carries the default route
# (requiredForOnline): a BMC port or an uncabled NIC must not hold the boot for two minutes, nor
# fail the unit that a switch restarts. Without a captured MAC one unit matches every physical
# wired port, as NixOS's own 99-ethernet-default-dhcp does, and any one of them being online is enough.
{ lib, ... }:
let
  net = (builtins.fromJSON (builtins.readFile ./host.json)).network;
  # host.json files written before requiredForOnline existed: every interface was required.
  required = iface: iface.requiredForOnline or true;
  catchAll = builtins.any (iface: iface.mac == "") net.interfaces;
  unitFor = iface: {
    name = "10-${iface.name}";
    value = {
      matchConfig =
        if iface.mac != "" then
          { MACAddress = iface.mac; }
        else
          {
            Type = "ether";
            Kind = "!*"; # physical ports only: bridges, bonds, veths and VLANs have a kind
          };
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
      linkConfig.RequiredForOnline = if required iface then "routable" else "no";
    };
  };
in
{
  networking.useDHCP = false;
  networking.useNetworkd = true;
  systemd.network.enable = true;
  systemd.network.networks = builtins.listToAttrs (map unitFor net.interfaces);
  # NixOS turns this on only with networking.useDHCP, which is off here.
  systemd.network.wait-online.anyInterface =
    catchAll || builtins.length (builtins.filter required net.interfaces) > 1;
  networking.nameservers = lib.mkIf (net.dns != [ ]) net.dns;
}
