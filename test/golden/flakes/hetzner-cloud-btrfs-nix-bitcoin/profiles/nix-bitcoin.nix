# Profile nix-bitcoin: bitcoind and Core Lightning as nix-bitcoin configures them (sandboxed
# services, generated secrets, an unprivileged `operator` user for bitcoin-cli/lightning-cli).
#
# nix-bitcoin's secure-node preset is deliberately NOT imported: it publishes sshd on port 22 as a
# Tor onion service, which the lockdown (SSH moves to another port, 22 closes) would break. Add
# the parts of it you want below. Firewall ports are data in hosts/<host>/host.json.
{ config, inputs, ... }:
{
  imports = [ inputs.nix-bitcoin.nixosModules.default ];

  # RPC passwords and other service secrets are generated ON the node at activation, into
  # nix-bitcoin.secretsDir; they never pass through this flake or the Nix store.
  nix-bitcoin.generateSecrets = true;

  nix-bitcoin.operator.enable = true;
  # The operator logs in with the same keys as root (host.json ssh.authorizedKeys).
  users.users.${config.nix-bitcoin.operator.name}.openssh.authorizedKeys.keys =
    config.users.users.root.openssh.authorizedKeys.keys;

  services.bitcoind = {
    enable = true;
    # Accept inbound peers on 8333 (opened in host.json firewall.allowedTCPPorts).
    listen = true;
    dbCache = 1000;
  };

  services.clightning.enable = true;
}
