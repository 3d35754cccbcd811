import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { checkLockdownData, parseHostData, stageHostData } from "../../../src/lockdown/host-stages";
import { baseHost } from "./host-fixture";

describe("stageHostData", () => {
  it("stage 1 listens on 22 and P, turns passwords off, ignores the operator, keeps node ports", () => {
    const h = stageHostData(baseHost(), "dual-port", {
      port: 2222,
      operatorAddress: "203.0.113.5",
      extraIgnoreIP: ["198.51.100.9", "192.0.2.0/24"],
    });
    expect(h.ssh).toMatchObject({
      ports: [22, 2222],
      passwordAuthentication: false,
      permitRootLogin: "prohibit-password",
    });
    expect(h.firewall.allowedTCPPorts.sort()).toEqual([22, 2222, 8333]);
    expect(h.fail2ban.ignoreIP).toEqual(["198.51.100.9", "203.0.113.5", "192.0.2.0/24"]);
    expect(h.lockdown).toEqual({ stage: "dual-port", port: 2222 });
  });

  it("stage 2 closes 22 everywhere and keeps what stage 1 learned", () => {
    const s1 = stageHostData(baseHost(), "dual-port", {
      port: 2222,
      operatorAddress: "203.0.113.5",
      extraIgnoreIP: [],
    });
    const s2 = stageHostData(s1, "final", { port: 2222, operatorAddress: "203.0.113.5", extraIgnoreIP: [] });
    expect(s2.ssh.ports).toEqual([2222]);
    expect(s2.firewall.allowedTCPPorts.sort()).toEqual([2222, 8333]);
    expect(s2.fail2ban.ignoreIP).toEqual(["198.51.100.9", "203.0.113.5"]);
  });

  it("an admin user means root cannot log in at all", () => {
    const h = baseHost();
    h.ssh.adminUser = "op";
    expect(
      stageHostData(h, "final", { port: 2222, operatorAddress: null, extraIgnoreIP: [] }).ssh.permitRootLogin,
    ).toBe("no");
  });
});

describe("host.json checks", () => {
  const bad: Array<[string, (h: Record<string, any>) => void, RegExp]> = [
    ["no keys", (h) => (h.ssh.authorizedKeys = []), /ssh.authorizedKeys: is empty/],
    ["no pinned host key", (h) => (h.ssh.hostKeyFingerprint = null), /ssh.hostKeyFingerprint: is not set/],
    ["a port typo", (h) => (h.ssh.ports = ["22x"]), /ssh.ports\[0\]: "22x" is not a port number/],
    ["a bad fingerprint", (h) => (h.ssh.hostKeyFingerprint = "MD5:aa"), /hostKeyFingerprint: "MD5:aa" is not a SHA256/],
  ];
  for (const [name, mutate, msg] of bad) {
    it(`refuses ${name} with the field named`, () => {
      const h = baseHost() as unknown as Record<string, any>;
      mutate(h);
      const run = () =>
        checkLockdownData(parseHostData(JSON.stringify(h), "hosts/node1/host.json"), 2222, "hosts/node1/host.json");
      expect(run).toThrow(UserError);
      expect(run).toThrow(msg);
    });
  }
  it("refuses invalid JSON naming the file", () => {
    expect(() => parseHostData("{ nope", "hosts/node1/host.json")).toThrow(
      /hosts\/node1\/host.json: is not valid JSON/,
    );
  });
  it("refuses --port 22", () => {
    expect(() => checkLockdownData(baseHost(), 22, "host.json")).toThrow(/--port: 22 is the port being closed/);
  });
});
