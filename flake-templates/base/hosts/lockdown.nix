# Added by `nixnode-install lockdown`. It reads the SAME host.json as default.nix and makes the
# lockdown guarantees authoritative (lib.mkForce), so an edit elsewhere cannot quietly reopen
# password logins or move sshd back to a port the firewall no longer allows.
# The data (ports, keys, operator addresses) lives in host.json; change it there or re-run lockdown.
{ lib, ... }:
let
  host = builtins.fromJSON (builtins.readFile ./host.json);
  ssh = host.ssh;
  rootLogin = if ssh.adminUser == null then "prohibit-password" else "no";
in
{
  services.openssh = {
    enable = true;
    # [22 P] during the first stage, [P] once the new port is confirmed.
    ports = lib.mkForce ssh.ports;
    openFirewall = true;
    # A socket-activated sshd is restarted per connection and the switch can kill the session
    # that is our lifeline; a plain service keeps established sessions (KillMode=process).
    startWhenNeeded = lib.mkForce false;
    settings = {
      PasswordAuthentication = lib.mkForce ssh.passwordAuthentication;
      KbdInteractiveAuthentication = lib.mkForce false;
      PermitRootLogin = lib.mkForce rootLogin;
    };
  };

  users.users.root.openssh.authorizedKeys.keys = ssh.authorizedKeys;

  networking.firewall = {
    enable = lib.mkForce true;
    allowedTCPPorts = host.firewall.allowedTCPPorts;
    allowedUDPPorts = host.firewall.allowedUDPPorts;
  };

  services.fail2ban = lib.mkIf host.fail2ban.enable {
    enable = true;
    maxretry = host.fail2ban.maxretry;
    bantime = host.fail2ban.bantime;
    bantime-increment.enable = true;
    # The operator's address as the target saw it during lockdown (so NAT is handled), plus any
    # the operator listed: a few typos must never ban the person who runs the node.
    ignoreIP = host.fail2ban.ignoreIP;
    # nixpkgs' sshd jail follows services.openssh.ports; mode "normal" does not count the
    # auth-method queries the tool makes while confirming.
    jails.sshd.settings.mode = "normal";
  };
}
