// A valid host.json and every path in it that holds a value, with strings an attacker (or a slip of
// the keyboard) would put there: shared by the unit test of src/flake/host-file and the system test
// that feeds them to the real CLI against a real target.
import type { HostData } from "../../../src/plan/types";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL4q+XfdHqMOiDWA7VFrQNmxChiMG4woKrjkSo16IcVM op@laptop";

export function validHost(): HostData {
  return {
    schema: 1,
    hostname: "node1",
    system: "x86_64-linux",
    stateVersion: "25.11",
    timezone: "Europe/Berlin",
    profile: "base",
    ssh: {
      ports: [22],
      passwordAuthentication: true,
      permitRootLogin: "prohibit-password",
      authorizedKeys: [KEY],
      adminUser: "admin",
      hostKeyFingerprint: "SHA256:" + "A".repeat(43),
    },
    firewall: { enable: true, allowedTCPPorts: [22, 8333], allowedUDPPorts: [51820] },
    fail2ban: { enable: true, ignoreIP: ["198.51.100.9", "2001:db8::/32"], maxretry: 5, bantime: "10m" },
    lockdown: { stage: "none", port: 2222 },
    network: {
      interfaces: [
        {
          name: "eth0",
          mac: "96:00:04:03:57:eb",
          dhcp4: false,
          ipv6AcceptRA: false,
          addresses: ["203.0.113.7/32", "2001:db8::1/64"],
          routes: [{ destination: "0.0.0.0/0", gateway: "172.31.1.1", onLink: true }],
          requiredForOnline: true,
        },
      ],
      dns: ["185.12.64.1", "2a01:4ff:ff00::add:1"],
    },
    boot: { mode: "uefi" },
  };
}

/** Strings an attacker (or a slip of the keyboard) would put into a field; each would run `touch MARKER` if it reached a shell unquoted. */
export function hostileStrings(marker = "/tmp/nixnode-pwned"): string[] {
  return [
    `2222; touch ${marker}`,
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `x\ntouch ${marker}`,
    `a'b"c'; touch ${marker}; '`,
    "ñødé-ü 💥",
    `"; builtins.exec ["touch" "${marker}"]; "`,
  ];
}

export const HOSTILE = hostileStrings();

/** Every path of host.json that holds a value, with a setter. */
export const FIELDS: Array<[string, (h: any, v: unknown) => void]> = [
  ["schema", (h, v) => (h.schema = v)],
  ["hostname", (h, v) => (h.hostname = v)],
  ["system", (h, v) => (h.system = v)],
  ["stateVersion", (h, v) => (h.stateVersion = v)],
  ["timezone", (h, v) => (h.timezone = v)],
  ["profile", (h, v) => (h.profile = v)],
  ["ssh.ports[0]", (h, v) => (h.ssh.ports[0] = v)],
  ["ssh.passwordAuthentication", (h, v) => (h.ssh.passwordAuthentication = v)],
  ["ssh.permitRootLogin", (h, v) => (h.ssh.permitRootLogin = v)],
  ["ssh.authorizedKeys[0]", (h, v) => (h.ssh.authorizedKeys[0] = v)],
  ["ssh.adminUser", (h, v) => (h.ssh.adminUser = v)],
  ["ssh.hostKeyFingerprint", (h, v) => (h.ssh.hostKeyFingerprint = v)],
  ["firewall.enable", (h, v) => (h.firewall.enable = v)],
  ["firewall.allowedTCPPorts[0]", (h, v) => (h.firewall.allowedTCPPorts[0] = v)],
  ["firewall.allowedUDPPorts[0]", (h, v) => (h.firewall.allowedUDPPorts[0] = v)],
  ["fail2ban.enable", (h, v) => (h.fail2ban.enable = v)],
  ["fail2ban.ignoreIP[0]", (h, v) => (h.fail2ban.ignoreIP[0] = v)],
  ["fail2ban.maxretry", (h, v) => (h.fail2ban.maxretry = v)],
  ["fail2ban.bantime", (h, v) => (h.fail2ban.bantime = v)],
  ["lockdown.stage", (h, v) => (h.lockdown.stage = v)],
  ["lockdown.port", (h, v) => (h.lockdown.port = v)],
  ["network.interfaces[0].name", (h, v) => (h.network.interfaces[0].name = v)],
  ["network.interfaces[0].mac", (h, v) => (h.network.interfaces[0].mac = v)],
  ["network.interfaces[0].dhcp4", (h, v) => (h.network.interfaces[0].dhcp4 = v)],
  ["network.interfaces[0].ipv6AcceptRA", (h, v) => (h.network.interfaces[0].ipv6AcceptRA = v)],
  ["network.interfaces[0].addresses[0]", (h, v) => (h.network.interfaces[0].addresses[0] = v)],
  ["network.interfaces[0].routes[0].destination", (h, v) => (h.network.interfaces[0].routes[0].destination = v)],
  ["network.interfaces[0].routes[0].gateway", (h, v) => (h.network.interfaces[0].routes[0].gateway = v)],
  ["network.interfaces[0].routes[0].onLink", (h, v) => (h.network.interfaces[0].routes[0].onLink = v)],
  ["network.interfaces[0].requiredForOnline", (h, v) => (h.network.interfaces[0].requiredForOnline = v)],
  ["network.dns[0]", (h, v) => (h.network.dns[0] = v)],
  ["boot.mode", (h, v) => (h.boot.mode = v)],
];

/** health.checks (optional): one check of each kind, so a setter can put a value into each field. */
const CHECKS = () => [
  { kind: "tcp", name: "NATS", address: "127.0.0.1", port: 4222, timeoutSec: 10 },
  { kind: "unit", unit: "nats.service" },
  { kind: "interface", interface: "wg-fleet" },
  { kind: "http", url: "http://127.0.0.1:8080/health", status: 200 },
];
const check = (i: number, key: string) => (h: any, v: unknown) => {
  h.health = { checks: CHECKS() };
  h.health.checks[i][key] = v;
};
FIELDS.push(
  ["health.checks[0].kind", check(0, "kind")],
  ["health.checks[0].name", check(0, "name")],
  ["health.checks[0].address", check(0, "address")],
  ["health.checks[0].port", check(0, "port")],
  ["health.checks[0].timeoutSec", check(0, "timeoutSec")],
  ["health.checks[1].unit", check(1, "unit")],
  ["health.checks[2].interface", check(2, "interface")],
  ["health.checks[3].url", check(3, "url")],
  ["health.checks[3].status", check(3, "status")],
);
