# The colmena hive (the argument of colmena.lib.makeHive): every host with the deployment settings
# the install and the lockdown leave behind (address, the locked-down SSH port, root or the admin
# user), buildOnTarget for hosts with little RAM or another architecture, and tags from the roles,
# so that `colmena apply --on @node` reaches every node. All values come from fleet/fleet.json.
{
  fleet,
  hostModules,
  pkgsFor,
}:
{
  meta = {
    description = "nixnode-install fleet";
    nixpkgs = pkgsFor {
      system = "x86_64-linux";
      profile = "base";
    };
    # per host: its system, and nix-bitcoin's own nixpkgs for a nix-bitcoin node
    nodeNixpkgs = builtins.mapAttrs (_: h: pkgsFor h) fleet.hosts;
  };
}
// builtins.mapAttrs (name: h: {
  deployment = {
    inherit (h.deployment)
      targetHost
      targetPort
      targetUser
      buildOnTarget
      tags
      ;
  };
  imports = hostModules name;
}) fleet.hosts
