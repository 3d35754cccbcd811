# Profile nix-bitcoin: bitcoind and Core Lightning as nix-bitcoin configures them (sandboxed
# services, generated secrets, an unprivileged `operator` user for bitcoin-cli/lightning-cli).
#
# nix-bitcoin's secure-node preset is deliberately NOT imported: it publishes sshd on port 22 as a
# Tor onion service, which the lockdown (SSH moves to another port, 22 closes) would break. Add
# the parts of it you want below. Firewall ports are data in hosts/<host>/host.json.
# Where the chain lives and whether it prunes is decided per machine by the plan: see
# hosts/<host>/default.nix (services.bitcoind.dataDir / prune).
{ config, inputs, ... }:
let
  bitcoind = config.services.bitcoind;
in
{
  imports = [ inputs.nix-bitcoin.nixosModules.default ];

  # The nix-bitcoin release this configuration was written for (its last incompatible change is
  # 0.0.85, as in nix-bitcoin's own examples/configuration.nix): nix-bitcoin stops evaluation with
  # migration instructions instead of silently changing behaviour across such a release.
  nix-bitcoin.configVersion = "0.0.85";

  # RPC passwords and other service secrets are generated ON the node at activation, into
  # nix-bitcoin.secretsDir; they never pass through this flake or the Nix store.
  nix-bitcoin.generateSecrets = true;

  nix-bitcoin.operator.enable = true;
  # The operator logs in with the same keys as root (host.json ssh.authorizedKeys).
  users.users.${config.nix-bitcoin.operator.name}.openssh.authorizedKeys.keys =
    config.users.users.root.openssh.authorizedKeys.keys;

  services.bitcoind = {
    enable = true;
    # Accept inbound peers on 8333 (opened in host.json firewall.allowedTCPPorts). nix-bitcoin's
    # `address` defaults to 127.0.0.1 and takes ONE address (bind=ADDRESS:PORT): 0.0.0.0 for IPv4,
    # and a second bind for IPv6 below (bitcoind binds IPv6 sockets v6-only).
    listen = true;
    address = "0.0.0.0";
    extraConfig = ''
      bind=[::]:${toString bitcoind.port}
    '';
    dbCache = 1000;
  };

  services.clightning.enable = true;
}
