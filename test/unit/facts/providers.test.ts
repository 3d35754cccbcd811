// One provider table for detection (the live probe) and for nixos-facter imports: on every facter
// capture in the corpus both paths name the same provider, the known machines get their provider,
// and planning and preflight read that provider's quirks.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { preflight } from "../../../src/detect/preflight";
import { providerFrom } from "../../../src/detect/parse-hardware";
import { importFacterReport } from "../../../src/facts/facter";
import { PROVIDERS, providerById } from "../../../src/facts/providers";
import { planFromFacts } from "../../../src/plan/index";
import { CORPUS, describeWithCorpus } from "../../helpers/corpus";
import { KEY_ED25519, makeFacts } from "../plan/fixtures";
import { corpusFiles } from "./corpus";

const KNOWN: Record<string, string | null> = {
  "hetzner-cloud-x86-8gb_25huizengek1-infra.json": "hetzner-cloud",
  "hetzner-robot-b450d4u-2nvme-128gb_mic92-eve.json": "hetzner-dedicated",
  "hetzner-robot-b665d4u-2nvme-128gb_clan-infra-build-x86-01.json": "hetzner-dedicated",
  "netcup-kvm-4gb_zmberber-supersmash.json": "netcup",
  "vultr-vc2-4gb_clan-infra-web02.json": "vultr",
  "oracle-cloud-x86-micro-1gb_christoph00-oc1.json": "oracle-cloud",
  "proxmox-vm-2disks_thecowboyai.json": null,
  "dell-r760-2nvme-mpi3mr_tum-dse-ian.json": null,
};

describeWithCorpus("providers on the corpus's facter captures", () => {
  const files = corpusFiles("facter");
  const imported = files.map((file) => ({
    file,
    facts: importFacterReport(JSON.parse(readFileSync(`${CORPUS}facter/${file}`, "utf8"))),
  }));

  it.each(Object.entries(KNOWN))("%s -> %s", (file, id) => {
    expect(imported.find((x) => x.file === file)!.facts.provider.hint).toBe(id);
  });

  it("the probe's path (providerFrom) names the same provider as the facter import, for every capture", () => {
    for (const { facts } of imported) {
      const probed = providerFrom(
        facts.provider.vendor,
        facts.provider.product,
        [facts.firmware.vendor],
        facts.virtualisation,
        facts.disks.map((d) => d.model ?? ""),
      );
      expect(probed.hint).toBe(facts.provider.hint);
    }
  });

  it("preflight's memory refusal on the 1 GiB Oracle micro names the provider's RAM floor", () => {
    const oracle = imported.find((x) => x.file.startsWith("oracle-cloud"))!.facts;
    const memory = preflight(oracle).checks.find((c) => c.id === "memory")!;
    expect(memory.status).toBe("fail");
    expect(memory.fix).toContain(providerById("oracle-cloud")!.quirks.ramFloor!);
  });
});

it("every id in the table is unique, and every quirk is a sentence the operator can act on", () => {
  expect(new Set(PROVIDERS.map((p) => p.id)).size).toBe(PROVIDERS.length);
});

it("planning for Hetzner Cloud names its firewall panel with the new SSH port, and the IPv6 that was not captured", () => {
  const facts = makeFacts({ provider: { vendor: "Hetzner", product: "vServer", hint: "hetzner-cloud" } });
  const plan = planFromFacts({
    facts,
    config: { ssh: { authorizedKeys: [KEY_ED25519], port: 2200 } },
    interactive: false,
  });
  const notes = plan.notes.join("\n");
  expect(notes).toContain("Hetzner Cloud Console → Firewalls");
  expect(notes).toMatch(/TCP port 2200/);
  expect(notes).toMatch(/IPv6 comes as a \/64 routed to the server, gateway fe80::1/);
});

it("an unknown provider adds no provider notes", () => {
  const plan = planFromFacts({
    facts: makeFacts(),
    config: { ssh: { authorizedKeys: [KEY_ED25519] } },
    interactive: false,
  });
  expect(plan.notes.join("\n")).not.toMatch(/^provider /m);
});
