// The change summary and the refusals before activation, from two host.json values: what an
// operator reads before a switch, and the edits that would lock them out.
import { describe, expect, it } from "vitest";
import { summarizeChanges } from "../../../src/switch/change-summary";
import type { HostData } from "../../../src/plan/types";
import { baseHost } from "../lockdown/host-fixture";

const OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl second@desk";

function lockedDown(): HostData {
  const h = baseHost();
  return {
    ...h,
    ssh: { ...h.ssh, ports: [2222], passwordAuthentication: false, permitRootLogin: "prohibit-password" },
    firewall: { ...h.firewall, allowedTCPPorts: [2222, 8333] },
    lockdown: { stage: "final", port: 2222 },
    network: {
      dns: ["1.1.1.1"],
      interfaces: [
        {
          name: "eth0",
          mac: "52:54:00:12:34:56",
          dhcp4: false,
          ipv6AcceptRA: true,
          addresses: ["203.0.113.7/24"],
          routes: [{ destination: "0.0.0.0/0", gateway: "203.0.113.1", onLink: false }],
          requiredForOnline: true,
        },
      ],
    },
  };
}
const ctx = { operatorPort: 2222, operatorKey: baseHost().ssh.authorizedKeys[0]! };

describe("summarizeChanges", () => {
  it("an unchanged configuration has no change lines and no refusals", () => {
    const s = summarizeChanges(lockedDown(), lockedDown(), ctx);
    expect(s.lines).toEqual([]);
    expect(s.refusals).toEqual([]);
    expect(s.confirmPort).toBe(2222);
  });

  it("a port change 2222 -> 2200 says so, and confirmation goes to 2200", () => {
    const next = lockedDown();
    next.ssh.ports = [2200];
    next.firewall.allowedTCPPorts = [2200, 8333];
    const s = summarizeChanges(lockedDown(), next, ctx);
    expect(s.lines).toEqual(["sshd ports: 2222 -> 2200", "firewall opens TCP 2200", "firewall closes TCP 2222"]);
    expect(s.refusals).toEqual([]);
    expect(s.confirmPort).toBe(2200);
  });

  it("a firewall that would drop the operator's SSH port is refused, saying why and the fix", () => {
    const next = lockedDown();
    next.firewall.allowedTCPPorts = [8333];
    const s = summarizeChanges(lockedDown(), next, ctx);
    expect(s.lines).toContain("firewall closes TCP 2222");
    expect(s.refusals).toHaveLength(1);
    expect(s.refusals[0]).toMatch(/firewall would drop SSH: sshd listens on 2222/);
    expect(s.refusals[0]).toMatch(/add 2222 to firewall\.allowedTCPPorts/);
  });

  it("keeping one open sshd port but closing the operator's own is refused too", () => {
    const old = lockedDown();
    old.ssh.ports = [2222, 2200];
    old.firewall.allowedTCPPorts = [2222, 2200];
    const next = lockedDown();
    next.ssh.ports = [2222, 2200];
    next.firewall.allowedTCPPorts = [2200];
    const s = summarizeChanges(old, next, ctx);
    expect(s.refusals.join("\n")).toMatch(/drop your own SSH port 2222/);
  });

  it("a disabled firewall drops nothing", () => {
    const next = lockedDown();
    next.firewall = { enable: false, allowedTCPPorts: [], allowedUDPPorts: [] };
    const s = summarizeChanges(lockedDown(), next, ctx);
    expect(s.refusals).toEqual([]);
    expect(s.lines).toContain("firewall: on -> off");
  });

  it("removing the operator's key is refused unless another key was proven to log in", () => {
    const next = lockedDown();
    next.ssh.authorizedKeys = [OTHER];
    const refused = summarizeChanges(lockedDown(), next, ctx);
    expect(refused.refusals).toHaveLength(1);
    expect(refused.refusals[0]).toMatch(/the key you are logged in with \(ssh-ed25519 \.\.\.\w+/);
    expect(refused.lines.join("\n")).toMatch(/authorized keys added: ssh-ed25519 .*second@desk/);
    expect(refused.lines.join("\n")).toMatch(/authorized keys removed: ssh-ed25519 .*op@laptop/);
    const allowed = summarizeChanges(lockedDown(), next, { ...ctx, otherKeyProven: true });
    expect(allowed.refusals).toEqual([]);
  });

  it("an empty key list is always refused", () => {
    const next = lockedDown();
    next.ssh.authorizedKeys = [];
    expect(summarizeChanges(lockedDown(), next, { ...ctx, otherKeyProven: true }).refusals[0]).toMatch(
      /authorizedKeys is empty/,
    );
  });

  it("auth methods, fail2ban, addresses, routes and services are named in words", () => {
    const old = lockedDown();
    const next = lockedDown();
    next.ssh.passwordAuthentication = true;
    next.fail2ban = { ...next.fail2ban, maxretry: 3, ignoreIP: ["198.51.100.9", "192.0.2.0/24"] };
    next.network.interfaces[0]!.addresses = ["203.0.113.8/24"];
    next.network.interfaces[0]!.routes = [{ destination: "0.0.0.0/0", gateway: "203.0.113.254", onLink: true }];
    const s = summarizeChanges(old, next, ctx, {
      before: ["sshd.service", "nginx.service"],
      after: ["sshd.service", "nats.service"],
    });
    expect(s.lines).toEqual([
      "sshd auth methods: publickey -> publickey, password",
      "fail2ban maxretry: 5 -> 3",
      "fail2ban ignoreIP added: 192.0.2.0/24",
      "addresses added: 203.0.113.8/24 on eth0",
      "addresses removed: 203.0.113.7/24 on eth0",
      "routes added: 0.0.0.0/0 via 203.0.113.254 (on-link) on eth0",
      "routes removed: 0.0.0.0/0 via 203.0.113.1 on eth0",
      "services started: nats.service",
      "services stopped: nginx.service",
    ]);
    expect(s.addressChanged).toBe(true);
    expect(s.confirmAddresses).toEqual(["203.0.113.8"]);
  });
});
