# The WireGuard mesh: every host peers with every other host over the interface named in
# fleet/fleet.json, with the address given to it there. Its private key is secrets/<host>/
# wireguard-fleet.age, encrypted to this host's SSH host key and the operators; agenix decrypts it
# at boot. The UDP port is opened by host.json's firewall data (which the lockdown keeps).
{
  config,
  fleet,
  fleetHost,
  ...
}:
let
  me = fleet.hosts.${fleetHost};
  others = builtins.removeAttrs fleet.hosts [ fleetHost ];
in
{
  age.secrets.wireguard-fleet.file = ../secrets + "/${fleetHost}/wireguard-fleet.age";

  networking.wireguard.interfaces.${fleet.mesh.interface} = {
    ips = [ "${me.meshIp}/${toString fleet.mesh.prefix}" ];
    listenPort = fleet.mesh.port;
    privateKeyFile = config.age.secrets.wireguard-fleet.path;
    peers = builtins.attrValues (
      builtins.mapAttrs (name: peer: {
        inherit name;
        publicKey = peer.wireguardPublicKey;
        # only the peer's own mesh address (/32 or /128): the mesh never routes anything else
        allowedIPs = [ "${peer.meshIp}/${toString fleet.mesh.hostPrefix}" ];
        endpoint = peer.endpoint;
        persistentKeepalive = 25;
      }) others
    );
  };
}
