# The modules of one fleet host, shared by nixosConfigurations and the colmena hive so the two can
# never build different systems. The role picks node.nix or collector.nix.
{ inputs, fleet }:
name:
let
  host = fleet.hosts.${name};
in
[
  inputs.disko.nixosModules.disko
  inputs.agenix.nixosModules.default
  (../hosts + "/${name}")
  ./mesh.nix
  {
    _module.args = {
      inherit fleet;
      fleetHost = name;
    };
  }
]
++ (if host.role == "collector" then [ ./collector.nix ] else [ ./node.nix ])
