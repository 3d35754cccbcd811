// A valid host.json for the lockdown's unit tests (a real ed25519 public key: host.json keys are parsed).
import type { HostData } from "../../../src/plan/types";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL4q+XfdHqMOiDWA7VFrQNmxChiMG4woKrjkSo16IcVM op@laptop";
export const baseHost = (): HostData => ({
  schema: 1,
  hostname: "node1",
  system: "x86_64-linux",
  stateVersion: "25.11",
  timezone: "UTC",
  profile: "base",
  ssh: {
    ports: [22],
    passwordAuthentication: true,
    permitRootLogin: "yes",
    authorizedKeys: [KEY],
    adminUser: null,
    hostKeyFingerprint: "SHA256:" + "A".repeat(43),
  },
  firewall: { enable: true, allowedTCPPorts: [22, 8333], allowedUDPPorts: [] },
  fail2ban: { enable: true, ignoreIP: ["198.51.100.9"], maxretry: 5, bantime: "10m" },
  lockdown: { stage: "none", port: 2222 },
  network: { interfaces: [], dns: [] },
  boot: { mode: "bios" },
});
