# The modules of one fleet host, shared by nixosConfigurations and the colmena hive so the two can
# never build different systems. The role picks collector.nix; a node's profile picks its modules:
#   base           node.nix (the node exporter on the mesh address)
#   nix-bitcoin    node.nix + profiles/nix-bitcoin.nix (the single-node nix-bitcoin profile)
#   peer-observer  infra-library's own modules and mkNodeConfig, as the single-node peer-observer
#                  flake uses them, + profiles/peer-observer.nix (the same glue) + peer-observer-node.nix
{ inputs, fleet }:
name:
let
  host = fleet.hosts.${name};
  hostJson = builtins.fromJSON (builtins.readFile (../hosts + "/${name}/host.json"));
  common = [
    inputs.disko.nixosModules.disko
    (../hosts + "/${name}")
    ./mesh.nix
    {
      _module.args = {
        inherit fleet;
        fleetHost = name;
        # profiles/peer-observer.nix reads host.json as the single-node flake passes it
        nixnodeHost = hostJson;
      };
    }
  ];
  peerObserver =
    let
      infraLib = inputs.peer-observer-infra-library.lib host.system;
      infra = import ./peer-observer-infra.nix {
        inherit fleet name;
        host = hostJson;
      };
    in
    [
      ./profiles/peer-observer.nix
      ./peer-observer-node.nix
      (infraLib.mkNodeConfig name infra.nodes.${name} infra)
    ]
    # infra-library's modules include agenix (the fleet's, through `follows`): imported once
    ++ infraLib.mkModules [ ];
in
common
++ (
  if host.role == "collector" then
    [
      inputs.agenix.nixosModules.default
      ./collector.nix
    ]
  else if (host.profile or "base") == "peer-observer" then
    peerObserver
  else if (host.profile or "base") == "nix-bitcoin" then
    [
      inputs.agenix.nixosModules.default
      ./node.nix
      ./profiles/nix-bitcoin.nix
    ]
  else
    [
      inputs.agenix.nixosModules.default
      ./node.nix
    ]
)
