# This node as peer-observer's infra-library describes nodes (the `infra` option: global, nodes,
# webservers, agenixSecretsDir; see https://peer-observer.github.io/infra-library). flake.nix
# passes it to infra-library's mkNodeConfig. Yours to edit: add webservers here to give the
# WireGuard link `wg-peerobserver` its peers, change the Bitcoin Core settings, add extraConfig.
# The admin user and its keys come from hosts/observer2/host.json (ssh.adminUser,
# ssh.authorizedKeys), so the lockdown and infra-library agree on who logs in.
{ host }:
let
  name = "observer2";
  # The WireGuard key pair: `nixnode-install plan` generated the private key, encrypted to this
  # node's host key and your keys, as secrets/wireguard-private-key-observer2.age (the name
  # infra-library reads), and wrote its public half to keys/.
  secret = ./secrets + "/wireguard-private-key-${name}.age";
  pubkeyFile = ./keys + "/wireguard-private-key-${name}.pub";
  haveKey = builtins.pathExists secret && builtins.pathExists pubkeyFile;
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

  agenixSecretsDir = ./secrets;

  nodes.${name} = {
    id = 1; # unique among your nodes
    arch = host.system;
    description = "peer-observer node observer2"; # may be shown publicly
    # infra-library's setup mode (no WireGuard, no node services) only while the WireGuard key is
    # missing; with it, the first install already runs the whole node.
    setup = !haveKey;
    wireguard = {
      ip = "10.21.0.1"; # infra-library's convention: nodes 10.21.0.<id>, webservers 10.21.1.<id>
      pubkey = if haveKey then builtins.replaceStrings [ "\n" ] [ "" ] (builtins.readFile pubkeyFile) else "";
    };
    bitcoind = {
      # full chain in /data/bitcoind on the data disk (1.9 TB); bitcoind does not start without that disk mounted
      prune = 0; # MiB of block files; 0 keeps the full chain
      dataDir = "/data/bitcoind";
    };
    # The data disk is mounted nofail (the machine boots without it); bitcoind must not: without
    # the disk it would start a fresh chain on the system disk and fill it.
    extraConfig =
      if haveKey then
        { systemd.services.bitcoind-mainnet.unitConfig.RequiresMountsFor = [ "/data/bitcoind" ]; }
      else
        { };
    extraModules = [ ];
  };

  webservers = { };
}
