# The fleet's peer-observer nodes in peer-observer's infra-library terms (its `infra` option:
# global, nodes, webservers, agenixSecretsDir; see https://peer-observer.github.io/infra-library),
# built from fleet/fleet.json for one host (`name`): host-modules.nix hands it to infra-library's
# mkNodeConfig, exactly as the single-node peer-observer flake does with its infra.nix. Every
# peer-observer node of the fleet is listed (infra-library checks that ids, WireGuard addresses and
# keys are unique across them); the fleet's collector is NOT an infra-library webserver (see
# docs/fleet.md), so `webservers` is empty and wg-peerobserver has no peers until you add one.
{
  fleet,
  name,
  host,
}:
let
  nodes = builtins.filter (h: h.profile == "peer-observer") (builtins.attrValues fleet.hosts);
  node = h: {
    inherit (h.peerObserver) id;
    arch = h.system;
    description = "peer-observer node ${h.name}"; # may be shown publicly
    # the fleet plan made this node's wg-peerobserver key: no setup mode, the node runs fully
    setup = false;
    wireguard = {
      ip = h.peerObserver.wireguardIp; # infra-library's convention: nodes 10.21.0.<id>
      pubkey = h.peerObserver.wireguardPublicKey;
    };
    bitcoind = {
      inherit (h.peerObserver.bitcoind) prune;
    }
    // (if h.peerObserver.bitcoind.dataDir == null then { } else { inherit (h.peerObserver.bitcoind) dataDir; });
    # the data disk is mounted nofail; bitcoind must not start a fresh chain on the system disk
    extraConfig =
      if h.peerObserver.bitcoind.requiresMount == null then
        { }
      else
        {
          systemd.services.bitcoind-mainnet.unitConfig.RequiresMountsFor = [ h.peerObserver.bitcoind.requiresMount ];
        };
    extraModules = [ ];
  };
in
{
  global = {
    admin = {
      username =
        if host.ssh.adminUser == null then
          throw "peer-observer: infra-library disables root login; set ssh.adminUser in hosts/${name}/host.json"
        else
          host.ssh.adminUser;
      sshPubKeys = host.ssh.authorizedKeys;
    };
    extraConfig = { };
  };
  # infra-library reads <agenixSecretsDir>/wireguard-private-key-<name>.age: this host's own folder
  agenixSecretsDir = ../secrets + "/${name}";
  nodes = builtins.listToAttrs (
    map (h: {
      inherit (h) name;
      value = node h;
    }) nodes
  );
  webservers = { };
}
