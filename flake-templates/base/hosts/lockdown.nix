# Added by `nixnode-install lockdown`. It reads the SAME host.json as nixnode.nix and makes the
# lockdown guarantees authoritative (lib.mkForce), so an edit elsewhere cannot quietly reopen
# password logins, turn the firewall off or move sshd back to a port the firewall no longer allows.
# It declares only what nixnode.nix does not, or forces: lists that nixnode.nix already sets
# (authorized keys, firewall ports, fail2ban's ignoreIP) are NOT repeated here, because NixOS
# concatenates list definitions and every key and address would then appear twice.
# The data (ports, keys, operator addresses) lives in host.json; change it there or re-run lockdown.
{ lib, ... }:
let
  host = builtins.fromJSON (builtins.readFile ./host.json);
  ssh = host.ssh;
  rootLogin = if ssh.adminUser == null then "prohibit-password" else "no";
in
{
  services.openssh = {
    enable = lib.mkForce true;
    # [22 P] during the first stage, [P] once the new port is confirmed.
    ports = lib.mkForce ssh.ports;
    # A socket-activated sshd is restarted per connection and the switch can kill the session
    # that is our lifeline; a plain service keeps established sessions (KillMode=process).
    startWhenNeeded = lib.mkForce false;
    settings = {
      PasswordAuthentication = lib.mkForce ssh.passwordAuthentication;
      KbdInteractiveAuthentication = lib.mkForce false;
      PermitRootLogin = lib.mkForce rootLogin;
    };
  };

  networking.firewall.enable = lib.mkForce true;

  # nixpkgs' sshd jail follows services.openssh.ports; mode "normal" does not count the
  # auth-method queries the tool makes while confirming. The rest of fail2ban (including the
  # operator's address in ignoreIP) comes from nixnode.nix.
  services.fail2ban = lib.mkIf host.fail2ban.enable {
    jails.sshd.settings.mode = "normal";
  };
}
