// The bundled example machines: each is valid Facts, equals what scripts/make-examples.mjs builds
// from the corpus today (so a fixed importer cannot leave stale examples), and gets the verdict
// its description promises.
import { describe, expect, it } from "vitest";
import { preflight } from "../../../src/detect/preflight";
import { UserError } from "../../../src/errors";
import { EXAMPLE_SOURCES, buildExampleFacts } from "../../../src/facts/example-sources";
import { EXAMPLES, loadExample } from "../../../src/facts/examples";
import { validateFacts } from "../../../src/facts/validate";
import { corpusName, itWithCorpus } from "../../helpers/corpus";
import { readCorpus } from "./corpus";

const NAMES = [
  "hetzner-cloud",
  "hetzner-dedicated",
  "netcup-vps",
  "proxmox-2disks",
  "oracle-micro-1gb",
  "latitude-baremetal",
];

describe("bundled examples", () => {
  it("are the six promised machines, each with a description", () => {
    expect(Object.keys(EXAMPLES)).toEqual(NAMES);
    for (const n of NAMES) expect(EXAMPLES[n]!.description.length).toBeGreaterThan(40);
  });

  it.each(NAMES)("%s round-trips through validateFacts and JSON", (name) => {
    const facts = loadExample(name);
    expect(facts.source).toBe("example");
    expect(validateFacts(JSON.parse(JSON.stringify(facts)))).toEqual(facts);
  });

  itWithCorpus.each(NAMES)(
    corpusName("%s equals what the corpus builds today (run scripts/make-examples.mjs if not)"),
    (name) => {
      expect(loadExample(name)).toEqual(buildExampleFacts(name, readCorpus));
    },
  );

  it("returns a fresh copy each time", () => {
    const a = loadExample("netcup-vps");
    a.disks = [];
    expect(loadExample("netcup-vps").disks).toHaveLength(1);
  });

  it.each([
    ["hetzner-cloud", []],
    ["hetzner-dedicated", []],
    ["netcup-vps", []],
    ["proxmox-2disks", []],
    ["oracle-micro-1gb", ["memory"]],
    ["latitude-baremetal", []],
  ])("preflight on %s refuses %j", (name, failing) => {
    expect(
      preflight(loadExample(name))
        .checks.filter((c) => c.status === "fail")
        .map((c) => c.id),
    ).toEqual(failing);
  });

  it("hetzner-cloud carries the captured static network with on-link gateways", () => {
    const n = loadExample("hetzner-cloud").network;
    const eth0 = n.interfaces.find((i) => i.name === "eth0")!;
    expect(eth0.mac).toBe("96:00:04:03:57:eb");
    expect(eth0.driver).toBe("virtio_net");
    expect(eth0.addresses.filter((a) => a.scope === "global").map((a) => `${a.address}/${a.prefix}`)).toEqual([
      "135.181.155.146/32",
      "2a01:4f9:c011:b882::1/64",
    ]);
    expect(n.defaultGateway4).toEqual({ address: "172.31.1.1", dev: "eth0", onLink: true });
    expect(n.defaultGateway6).toEqual({ address: "fe80::1", dev: "eth0", onLink: true });
    expect(n.dhcp4).toBe(false);
    expect(n.dns).toContain("185.12.64.1");
    expect(EXAMPLES["hetzner-cloud"]!.description).toMatch(/ANOTHER Hetzner Cloud VM/);
  });

  it("hetzner-dedicated has two equal NVMe disks (a mirror candidate)", () => {
    const d = loadExample("hetzner-dedicated").disks;
    expect(d.map((x) => [x.transport, x.sizeBytes])).toEqual([
      ["nvme", 1920383410176],
      ["nvme", 1920383410176],
    ]);
  });

  itWithCorpus(corpusName("every example source points at a corpus file that exists"), () => {
    for (const s of Object.values(EXAMPLE_SOURCES)) {
      expect(readCorpus(s.facter).length).toBeGreaterThan(1000);
      if (s.network) expect(readCorpus(s.network)).toMatch(/defaultGateway/);
    }
  });

  it("refuses an unknown name, listing the known ones", () => {
    let err: unknown;
    try {
      loadExample("hetzner");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(e.message).toBe('--example: "hetzner" is not a bundled example machine');
    expect(e.hint).toBe(`use one of: ${NAMES.join(", ")}`);
    expect(() => loadExample("toString")).toThrow(UserError);
  });
});
