# Managed by nixnode-install: SSH, firewall, fail2ban, host name and time zone, all read from
# host.json. Change the values in host.json (or override them in default.nix); the install and the
# lockdown update host.json as they go, so this file stays the same.
{ lib, ... }:
let
  host = builtins.fromJSON (builtins.readFile ./host.json);
  ssh = host.ssh;
in
{
  networking.hostName = host.hostname;
  time.timeZone = host.timezone;
  system.stateVersion = host.stateVersion;
  nixpkgs.hostPlatform = lib.mkDefault host.system;

  services.openssh = {
    enable = true;
    ports = ssh.ports;
    openFirewall = true;
    # A socket-activated sshd can kill the operator's own session during a switch.
    startWhenNeeded = false;
    # Only the ed25519 host key, which the install generates on the operator's side and pins.
    hostKeys = [
      {
        path = "/etc/ssh/ssh_host_ed25519_key";
        type = "ed25519";
      }
    ];
    settings = {
      PasswordAuthentication = ssh.passwordAuthentication;
      KbdInteractiveAuthentication = ssh.passwordAuthentication;
      PermitRootLogin = ssh.permitRootLogin;
    };
  };

  users.users = {
    root.openssh.authorizedKeys.keys = ssh.authorizedKeys;
  }
  // lib.optionalAttrs (ssh.adminUser != null) {
    ${ssh.adminUser} = {
      isNormalUser = true;
      extraGroups = [ "wheel" ];
      openssh.authorizedKeys.keys = ssh.authorizedKeys;
    };
  };
  # The admin user has keys and no password, so sudo must not ask for one.
  security.sudo.wheelNeedsPassword = lib.mkIf (ssh.adminUser != null) false;
  # Day-2 rebuilds log in as the admin user once lockdown refuses root (`nixos-rebuild
  # --target-host ADMIN@HOST --sudo`): the closure is copied to the node as that user, and the
  # nix daemon accepts store paths built elsewhere only from trusted users.
  nix.settings.trusted-users = lib.mkIf (ssh.adminUser != null) [
    "root"
    ssh.adminUser
  ];

  networking.firewall = {
    enable = host.firewall.enable;
    allowedTCPPorts = host.firewall.allowedTCPPorts;
    allowedUDPPorts = host.firewall.allowedUDPPorts;
  };

  services.fail2ban = lib.mkIf host.fail2ban.enable {
    enable = true;
    maxretry = host.fail2ban.maxretry;
    bantime = host.fail2ban.bantime;
    # Repeat offenders are banned for longer each time (1, 2, 4, 8... times bantime).
    bantime-increment.enable = true;
    # Includes the operator's address as the target saw it: typos must never ban the operator.
    ignoreIP = host.fail2ban.ignoreIP;
  };
}
