// Planning against EVERY real nixos-facter capture: each one either yields a complete plan whose
// generated .nix files parse, or is refused by the preflight check that explains why. The expected
// outcome per machine comes from the capture itself (RAM, disks), see shared/corpus/MANIFEST.tsv.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { importFacterReport } from "../../../src/facts/facter";
import type { DiskTransport } from "../../../src/facts/types";
import { renderFlake } from "../../../src/generate/render-flake";
import { findDisk, installableDisks, mirrorCandidates } from "../../../src/plan/defaults";
import { planFromFacts } from "../../../src/plan/index";
import { corpusDir, describeWithCorpus } from "../../helpers/corpus";
import { CORPUS, KEY_ED25519 } from "./fixtures";
import { NIX_INSTANTIATE, NO_NIX_REASON, evalModule, parseNixFiles } from "./nix-eval";

type Outcome = { refuse: string } | { system: DiskTransport; mirror: boolean };

// One row per capture. refuse: the preflight check id. system: the transport of the disk the
// planner must pick (NVMe over eMMC/USB/RAID-controller disks). mirror: two equal disks exist.
const EXPECTED: Record<string, Outcome> = {
  "ampereone-arm64-server-512gb_tum-dse-eliza.json": { system: "nvme", mirror: false },
  "arm64-board-uefi-nvme-2xr8169_pinpox-traube.json": { system: "nvme", mirror: false }, // the USB stick is not a candidate
  "dell-r7515-4nvme-megaraid-1tb_tum-dse-ryan.json": { system: "nvme", mirror: true }, // 2 x 1.6 TB NVMe are a pair
  "dell-r760-2nvme-mpi3mr_tum-dse-ian.json": { system: "nvme", mirror: false }, // 3.84 TB + 1.6 TB: not a pair
  "hetzner-cloud-arm64-4gb_mic92-eva.json": { system: "scsi", mirror: false },
  "hetzner-cloud-x86-8gb_25huizengek1-infra.json": { system: "scsi", mirror: false },
  "hetzner-genoa-2nvme-256gb_clan-infra-web01.json": { system: "nvme", mirror: true },
  "hetzner-robot-b450d4u-2nvme-128gb_mic92-eve.json": { system: "nvme", mirror: true },
  "hetzner-robot-b665d4u-2nvme-128gb_clan-infra-build-x86-01.json": { system: "nvme", mirror: true },
  "hetzner-rx-arm64-ampere-2nvme-128gb_clan-infra-build01.json": { system: "nvme", mirror: true },
  "ionos-vps-edk2-832mb-zram_dozed-dev-ionos-eu1.json": { refuse: "memory" }, // 832 MiB
  "jetson-orin-arm64-emmc-nvme_tum-dse-joy.json": { system: "nvme", mirror: false }, // not the eMMC
  "latitude-sh-supermicro-x11sce-1sata_latitudesh-examples.json": { system: "sata", mirror: false },
  "netcup-kvm-4gb_zmberber-supersmash.json": { system: "virtio", mirror: false },
  "oracle-cloud-x86-micro-1gb_christoph00-oc1.json": { refuse: "memory" }, // sold as 1 GB, the kernel sees 960 MiB
  "proxmox-vm-2disks_thecowboyai.json": { system: "scsi", mirror: false }, // 16 GiB + a 1 GiB disk
  "qemu-vm-report-v2_nixos-facter-modules-basic.json": { system: "virtio", mirror: false },
  "sprintbox-ru-kvm-448mb_dozed-dev-sprintbox-ru1.json": { refuse: "memory" }, // 448 MiB
  "vultr-vc2-4gb_clan-infra-web02.json": { system: "virtio", mirror: false },
};

const files = corpusDir("facter")
  .filter((f) => f.endsWith(".json"))
  .sort();
const outDir = mkdtempSync(join(tmpdir(), "nixnode-corpus-plans-"));
/** Per planned capture: its wired ports, and the host.json its flake reads. */
const wiredPorts = new Map<string, number>();
const hostJsons = new Map<string, unknown>();
const NETWORK_NIX = fileURLToPath(new URL("../../../flake-templates/base/hosts/network.nix", import.meta.url));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describeWithCorpus("planning every facter capture in the corpus", () => {
  it("has an expectation for every capture, and no stale ones", () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)("%s", (file) => {
    const report = JSON.parse(readFileSync(`${CORPUS}facter/${file}`, "utf8")) as unknown;
    const facts = importFacterReport(report);
    const want = EXPECTED[file]!;
    const attempt = () =>
      planFromFacts({
        facts,
        facterReport: report,
        config: { ssh: { authorizedKeys: [KEY_ED25519] } },
        interactive: false,
      });
    if ("refuse" in want) {
      let err: unknown;
      try {
        attempt();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).field).toBe(`preflight.${want.refuse}`);
      expect((err as UserError).message).toMatch(/cannot be installed/);
      return;
    }
    const plan = attempt();
    // The system disk: an installable disk of the expected kind, named by its most stable path.
    const chosen = findDisk(facts, plan.disk.system[0]!.path)!;
    expect(installableDisks(facts)).toContain(chosen);
    expect(chosen.transport).toBe(want.system);
    expect(plan.disk.system[0]!.path).toBe(chosen.byId[0] ?? chosen.byPath[0] ?? chosen.path);
    expect(plan.hardware.kind).toBe("facter");
    expect(plan.host.system).toBe(facts.arch === "aarch64" ? "aarch64-linux" : "x86_64-linux");
    // A facter report has no addresses: DHCP on every wired interface.
    expect(plan.network.interfaces).toEqual([
      {
        name: "ethernet",
        mac: "",
        dhcp4: true,
        ipv6AcceptRA: true,
        addresses: [],
        routes: [],
        requiredForOnline: true,
      },
    ]);
    wiredPorts.set(file, facts.network.interfaces.filter((i) => i.kind === "ethernet").length);
    hostJsons.set(file, plan.host);
    expect(plan.host.ssh).toMatchObject({ ports: [22], authorizedKeys: [KEY_ED25519] });
    expect(mirrorCandidates(facts).length > 0).toBe(want.mirror);
    if (want.mirror) {
      const mirrored = planFromFacts({
        facts,
        facterReport: report,
        config: { disk: { layout: "mirror-mdadm" }, ssh: { authorizedKeys: [KEY_ED25519] } },
        interactive: false,
      });
      expect(mirrored.disk.system).toHaveLength(2);
      expect(new Set(mirrored.disk.system.map((d) => d.kernelPath)).size).toBe(2);
    }
    // Write the flake so that the parse test below sees every generated .nix file.
    for (const [rel, text] of Object.entries(renderFlake(plan))) {
      const p = join(outDir, file, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
    expect(JSON.parse(readFileSync(join(outDir, file, `hosts/${plan.config.hostname}/facter.json`), "utf8"))).toEqual(
      report,
    );
  });

  // Every capture's flake gets the catch-all unit (no MACs in a facter report). With
  // networking.useDHCP off, NixOS leaves wait-online.anyInterface off, so before this fix a machine
  // with a BMC port or an uncabled NIC waited 120 s at boot for ports that never come up.
  it.skipIf(!NIX_INSTANTIATE)(
    "wait-online: physical ports only, and any one online is enough, on every capture",
    () => {
      expect(hostJsons.size).toBeGreaterThanOrEqual(16);
      for (const [file, host] of hostJsons) {
        const units = evalModule(NETWORK_NIX, host, "systemd.network.networks") as Record<
          string,
          { matchConfig: Record<string, string>; linkConfig: Record<string, string> }
        >;
        expect(
          Object.values(units).map((u) => u.matchConfig),
          file,
        ).toEqual([{ Type: "ether", Kind: "!*" }]);
        expect(evalModule(NETWORK_NIX, host, "systemd.network.wait-online.anyInterface"), file).toBe(true);
      }
      const multi = [...wiredPorts].filter(([, n]) => n >= 2).map(([f, n]) => `${f} (${n})`);
      // the machines the old unit would have held at boot: several wired ports, one catch-all unit
      console.info(
        `corpus: ${multi.length} of ${wiredPorts.size} planned captures have 2+ wired ports: ${multi.join(", ")}`,
      );
      expect(multi.length).toBeGreaterThan(0);
    },
  );

  it.skipIf(!NIX_INSTANTIATE)(
    `every generated .nix file parses${NIX_INSTANTIATE ? "" : ` (skipped: ${NO_NIX_REASON})`}`,
    () => {
      const nix = readdirSync(outDir, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".nix"))
        .map((f) => join(outDir, f));
      expect(nix.length).toBeGreaterThanOrEqual(16 * 6);
      expect(parseNixFiles(nix)).toEqual([]);
    },
  );
});
