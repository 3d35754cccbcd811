// A machine reached through a static /30 (the address and its gateway are the only two hosts of the
// network), as live detect facts record it: the plan keeps the address and the default route, and
// no note tells the operator to "plan from detect facts" about facts that came from detect.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseNixosInfectNetwork } from "../../../src/facts/nixos-infect-network";
import { planFromFacts } from "../../../src/plan/index";
import { renderFlake } from "../../../src/generate/render-flake";
import { CORPUS, describeWithCorpus } from "../../helpers/corpus";
import { corpusFiles } from "../facts/corpus";
import { KEY_ED25519, makeFacts } from "./fixtures";

/** What `detect` records for the test targets and for a VPS whose NIC shows no device in sysfs. */
function factsWith30(kind: "virtual" | "ethernet") {
  return makeFacts({
    network: {
      interfaces: [
        {
          name: "eth0",
          mac: "02:00:0a:e7:00:02",
          driver: null,
          state: "up",
          mtu: 1500,
          kind,
          addresses: [
            { family: 4, address: "10.231.0.2", prefix: 30, scope: "global", dynamic: false },
            { family: 6, address: "fe80::ff:fee7:2", prefix: 64, scope: "link", dynamic: false },
          ],
        },
      ],
      routes: [
        {
          family: 4,
          destination: "default",
          gateway: "10.231.0.1",
          dev: "eth0",
          onLink: false,
          protocol: "boot",
          metric: null,
        },
        {
          family: 4,
          destination: "10.231.0.0/30",
          gateway: null,
          dev: "eth0",
          onLink: false,
          protocol: "kernel",
          metric: null,
        },
      ],
      defaultGateway4: { address: "10.231.0.1", dev: "eth0", onLink: false },
      defaultGateway6: null,
      dns: ["10.231.0.1"],
      dhcp4: false,
    },
  });
}

describe.each(["virtual", "ethernet"] as const)("static /30 on a %s interface", (kind) => {
  const plan = planFromFacts({
    facts: factsWith30(kind),
    config: { ssh: { authorizedKeys: [KEY_ED25519] } },
    interactive: false,
  });

  it("keeps the address and the default route, without DHCP", () => {
    expect(plan.network.interfaces).toHaveLength(1);
    expect(plan.network.interfaces[0]).toMatchObject({
      name: "eth0",
      mac: "02:00:0a:e7:00:02",
      dhcp4: false,
      addresses: ["10.231.0.2/30"],
      routes: [{ destination: "0.0.0.0/0", gateway: "10.231.0.1", onLink: false }],
    });
    expect(plan.network.dns).toEqual(["10.231.0.1"]);
    const host = JSON.parse(renderFlake(plan)[`hosts/${plan.config.hostname}/host.json`]!);
    expect(host.network.interfaces[0].addresses).toEqual(["10.231.0.2/30"]);
  });

  it("gives no advice that contradicts it (no DHCP note, no 'plan from detect facts')", () => {
    const notes = plan.notes.join("\n");
    expect(notes).not.toMatch(/DHCP/);
    expect(notes).not.toMatch(/no addresses were captured/);
    expect(notes).not.toMatch(/plan from `nixnode-install detect` facts/);
    expect(notes).not.toMatch(/not carried over/);
  });
});

describe("probe facts whose only address is on an interface that is not carried over", () => {
  it("say so, without pointing at detect facts (they are detect facts)", () => {
    const f = factsWith30("virtual");
    f.network.defaultGateway4 = null;
    f.network.routes = [];
    const plan = planFromFacts({ facts: f, config: { ssh: { authorizedKeys: [KEY_ED25519] } }, interactive: false });
    const notes = plan.notes.join("\n");
    expect(notes).toMatch(/no address on an interface that is carried over/);
    expect(notes).not.toMatch(/plan from `nixnode-install detect` facts/);
  });
});

describeWithCorpus("the static networks of the corpus (nixos-infect captures), as probe facts", () => {
  it.each(corpusFiles("network-nixos-infect"))("%s: every static address is kept, no DHCP advice", (file) => {
    const network = parseNixosInfectNetwork(readFileSync(`${CORPUS}network-nixos-infect/${file}`, "utf8"));
    for (const kind of ["ethernet", "virtual"] as const) {
      const facts = makeFacts({
        network: { ...network, interfaces: network.interfaces.map((i) => ({ ...i, kind })) },
      });
      const plan = planFromFacts({ facts, config: { ssh: { authorizedKeys: [KEY_ED25519] } }, interactive: false });
      const planned = plan.network.interfaces.flatMap((i) => i.addresses);
      const captured = network.interfaces.flatMap((i) =>
        i.addresses.filter((a) => a.scope === "global" && !a.dynamic).map((a) => `${a.address}/${a.prefix}`),
      );
      expect(captured.length).toBeGreaterThan(0);
      expect(planned).toEqual(expect.arrayContaining(captured));
      expect(plan.network.interfaces.every((i) => !i.dhcp4)).toBe(true);
      expect(plan.notes.join("\n")).not.toMatch(/no addresses were captured|plan from `nixnode-install detect` facts/);
    }
  });
});
