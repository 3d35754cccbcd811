// What the nixos personality applies for a host.json, as plain data and nothing else: the same
// decisions nixnode.nix (and lockdown.nix, when the build had it) make on a real NixOS. Pure, so
// that test/unit/generate/nixos-contract.test.ts can hold these answers equal to what the modules
// evaluate to; activate.mjs only turns them into sshd_config, iptables rules and a jail.local.

/** `lockdown`: the flake's hosts/<host>/lockdown.nix was part of the build (default.nix imports it if present). */
export function desiredSshdSettings(host, { lockdown }) {
  const ssh = host.ssh;
  const keys = ssh.authorizedKeys;
  return {
    enable: true,
    ports: ssh.ports,
    PasswordAuthentication: ssh.passwordAuthentication,
    // nixnode.nix follows passwordAuthentication; lockdown.nix forces it off
    KbdInteractiveAuthentication: lockdown ? false : ssh.passwordAuthentication,
    PermitRootLogin: lockdown ? (ssh.adminUser === null ? "prohibit-password" : "no") : ssh.permitRootLogin,
    AllowUsers: null,
    // /etc/ssh/authorized_keys.d/<user>: root always, the admin user (nixnode.nix) when there is one
    authorizedKeys: { root: keys, ...(ssh.adminUser !== null ? { [ssh.adminUser]: keys } : {}) },
  };
}

export function desiredFirewall(host, { lockdown }) {
  const fw = host.firewall;
  return {
    enable: lockdown ? true : fw.enable,
    // services.openssh.openFirewall adds the sshd ports to the TCP list
    allowedTCPPorts: [...new Set([...fw.allowedTCPPorts, ...host.ssh.ports])],
    allowedUDPPorts: [...new Set(fw.allowedUDPPorts)],
  };
}

export function desiredFail2ban(host) {
  const f = host.fail2ban;
  return {
    enable: f.enable,
    maxretry: f.maxretry,
    bantime: f.bantime,
    bantimeIncrement: true,
    // NixOS's jail.local always puts loopback first (fail2ban.nix: "127.0.0.1/8 ::1 ...")
    ignoreIP: ["127.0.0.1/8", "::1", ...f.ignoreIP],
    // NixOS's own sshd jail follows services.openssh.ports; lockdown.nix sets mode normal, which is
    // also fail2ban's own default for the sshd filter when nixnode.nix is alone
    jails: { sshd: { enabled: true, port: host.ssh.ports.join(","), mode: "normal" } },
  };
}

/** What a fresh install from our flake looks like: sshd on the port the base config has, firewall on. */
export function initialHostData(sshdConfigText, hostname) {
  const ports = [...sshdConfigText.matchAll(/^\s*Port\s+(\d+)/gim)].map((m) => Number(m[1]));
  const pw = /^\s*PasswordAuthentication\s+no/im.test(sshdConfigText) ? false : true;
  const prl = /^\s*PermitRootLogin\s+(\S+)/im.exec(sshdConfigText)?.[1] ?? "yes";
  return {
    schema: 1,
    hostname: hostname || "nixos",
    system: "x86_64-linux",
    stateVersion: "25.11",
    timezone: "UTC",
    profile: "base",
    ssh: {
      ports: ports.length ? ports : [22],
      passwordAuthentication: pw,
      permitRootLogin: prl,
      authorizedKeys: [],
      adminUser: null,
      hostKeyFingerprint: null,
    },
    firewall: { enable: true, allowedTCPPorts: ports.length ? ports : [22], allowedUDPPorts: [] },
    fail2ban: { enable: false, ignoreIP: [], maxretry: 5, bantime: "10m" },
    lockdown: { stage: "none", port: 22 },
    network: { interfaces: [], dns: [] },
    boot: { mode: "bios" },
  };
}
