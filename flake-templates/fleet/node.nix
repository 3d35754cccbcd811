# Role node: the Prometheus node exporter, listening ONLY on this host's mesh address and opened
# only on the mesh interface, so the collector scrapes it over WireGuard and nobody else can.
{ fleet, fleetHost, ... }:
let
  me = fleet.hosts.${fleetHost};
  unit = "wireguard-${fleet.mesh.interface}.service";
in
{
  services.prometheus.exporters.node = {
    enable = true;
    # meshHost: IPv6 in brackets, as the exporter's --web.listen-address=ADDRESS:PORT needs it
    listenAddress = me.meshHost;
    port = fleet.exporters.node;
    openFirewall = false;
  };
  # the mesh address exists only once the WireGuard interface is up
  systemd.services.prometheus-node-exporter = {
    after = [ unit ];
    wants = [ unit ];
  };
  networking.firewall.interfaces.${fleet.mesh.interface}.allowedTCPPorts = [ fleet.exporters.node ];
}
