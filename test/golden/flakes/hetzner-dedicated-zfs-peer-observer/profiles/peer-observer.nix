# Profile peer-observer: a Bitcoin Core node whose USDT tracepoints the peer-observer extractors
# read, NATS on localhost as their message bus, and a WireGuard link to the central monitoring host
# (Prometheus/Grafana). Modest on purpose: the extractors and tools come from the peer-observer
# project (github.com/0xB10C/peer-observer); add them here once you have picked a release.
{ lib, ... }:
let
  # Fill these in from your monitoring host and rebuild. WireGuard stays off until they are set.
  wireguard = {
    address = ""; # this node inside the tunnel, e.g. "10.10.0.5/32"
    peerPublicKey = ""; # the monitoring host's WireGuard public key
    peerEndpoint = ""; # e.g. "monitor.example.org:51820"
    peerAllowedIPs = [ ]; # e.g. [ "10.10.0.1/32" ]
    # A secret: create it with `nixnode-install secrets add wireguard --generate wireguard`. It is
    # decrypted on the node to this path at boot (agenix) and never enters the Nix store.
    privateKeyFile = "/run/agenix/wireguard";
  };
  wireguardReady = wireguard.address != "" && wireguard.peerPublicKey != "" && wireguard.peerEndpoint != "";
in
{
  services.bitcoind.mainnet = {
    enable = true;
    # PLACEHOLDER, check before relying on it: the tracepoints need a bitcoind built with USDT
    # support. `readelf -n $(command -v bitcoind) | grep -c stapsdt` prints 0 when they are missing;
    # then set `package` to a build with -DWITH_USDT=ON.
    extraConfig = ''
      listen=1
      # peer-observer's RPC extractor talks to bitcoind on this machine only
      rpcbind=127.0.0.1
      rpcallowip=127.0.0.1
    '';
  };

  # The extractors publish events here; bound to localhost, nothing outside the machine reaches it.
  services.nats = {
    enable = true;
    host = "127.0.0.1";
    port = 4222;
  };

  networking.wireguard.interfaces.wg-observer = lib.mkIf wireguardReady {
    ips = [ wireguard.address ];
    inherit (wireguard) privateKeyFile;
    peers = [
      {
        publicKey = wireguard.peerPublicKey;
        endpoint = wireguard.peerEndpoint;
        allowedIPs = wireguard.peerAllowedIPs;
        # The node dials out, so no inbound WireGuard port has to be opened.
        persistentKeepalive = 25;
      }
    ];
  };

  warnings = lib.optional (!wireguardReady) "peer-observer: the WireGuard link is off until address, peerPublicKey and peerEndpoint are set in profiles/peer-observer.nix";
}
