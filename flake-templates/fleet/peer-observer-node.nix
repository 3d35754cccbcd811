# A peer-observer node of the fleet (infra-library's node modules, see host-modules.nix), scraped by
# the fleet's collector over the mesh. infra-library's exporters (node, wireguard, process) listen on
# every IPv4 address and infra-library opens them only on its own wg-peerobserver interface; here
# they are opened on the mesh interface too, and infra-library's nginx that serves the compressed
# peer-observer metrics also listens on this host's mesh address. The ports are infra-library's own
# values; fleet/fleet.json tells the collector the same numbers, which the assertion holds together.
{
  config,
  fleet,
  fleetHost,
  ...
}:
let
  me = fleet.hosts.${fleetHost};
  e = config.services.prometheus.exporters;
  po = fleet.exporters.peerObserver;
in
{
  services.nginx.virtualHosts."compressed-peer-observer-metrics".listen = [
    {
      addr = me.meshHost;
      port = po.metrics;
    }
  ];
  networking.firewall.interfaces.${fleet.mesh.interface}.allowedTCPPorts = [
    e.node.port
    e.wireguard.port
    e.process.port
    po.metrics
  ];
  assertions = [
    {
      assertion = e.node.port == fleet.exporters.node && e.wireguard.port == po.wireguard && e.process.port == po.process;
      message = "fleet/fleet.json's exporter ports differ from infra-library's (node ${toString e.node.port}, wireguard ${toString e.wireguard.port}, process ${toString e.process.port}): plan the fleet again";
    }
  ];
}
