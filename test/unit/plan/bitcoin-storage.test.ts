// Where the Bitcoin profiles keep the chain: a full chain only where a disk can hold it, on the data
// disk whenever there is one (and then bitcoind requires that mount), pruned otherwise.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExample } from "../../../src/facts/examples";
import { FULL_CHAIN_MIN_BYTES, PRUNE_TARGET_MIB, planBitcoinStorage } from "../../../src/plan/bitcoin-storage";
import { planFromFacts } from "../../../src/plan/index";
import type { DiskPlan } from "../../../src/plan/types";
import { runCli } from "../../helpers/cli";
import { KEY_ED25519 } from "./fixtures";

const GB = 1e9;
const disk = (systemBytes: number[], data: number | null = null, swapMiB = 2048): DiskPlan => ({
  layout: systemBytes.length > 1 ? "mirror-mdadm" : "ext4",
  system: systemBytes.map((sizeBytes, i) => ({
    path: `/dev/disk/by-id/sys${i}`,
    kernelPath: `/dev/sd${"ab"[i]}`,
    sizeBytes,
    model: null,
  })),
  swapMiB,
  data:
    data === null
      ? null
      : {
          path: "/dev/disk/by-id/data",
          kernelPath: "/dev/sdc",
          sizeBytes: data,
          model: null,
          mountpoint: "/srv/chain/",
          filesystem: "ext4",
        },
  bootMode: "uefi",
});

describe("planBitcoinStorage", () => {
  it("base: nothing to decide", () => {
    expect(planBitcoinStorage("base", disk([40 * GB]))).toBeNull();
  });

  it("a 40 GB cloud disk and no data disk: pruned, and the summary says why", () => {
    for (const profile of ["nix-bitcoin", "peer-observer"] as const) {
      const s = planBitcoinStorage(profile, disk([40 * GB]))!;
      expect(s).toMatchObject({ dataDir: null, requiresMount: null, pruneMiB: PRUNE_TARGET_MIB });
      expect(s.summary).toMatch(
        /^pruned to 4000 MiB of blocks: no data disk, and the system disk \(38 GB after swap\)/,
      );
    }
  });

  it("a data disk of 1 TB or more: the full chain there, and bitcoind requires its mount", () => {
    const s = planBitcoinStorage("nix-bitcoin", disk([240 * GB], 2 * FULL_CHAIN_MIN_BYTES))!;
    expect(s).toMatchObject({ dataDir: "/srv/chain/bitcoind", requiresMount: "/srv/chain/bitcoind", pruneMiB: 0 });
    expect(s.summary).toMatch(
      /full chain in \/srv\/chain\/bitcoind on the data disk \(2\.0 TB\); bitcoind does not start/,
    );
  });

  it("a data disk smaller than the chain: still used (a reinstall keeps it), but pruned", () => {
    const s = planBitcoinStorage("peer-observer", disk([240 * GB], FULL_CHAIN_MIN_BYTES - 1))!;
    expect(s).toMatchObject({ dataDir: "/srv/chain/bitcoind", requiresMount: "/srv/chain/bitcoind", pruneMiB: 4000 });
  });

  it("a big system disk (or mirror) and no data disk: full chain, unless swap or the smaller twin leaves too little", () => {
    expect(planBitcoinStorage("nix-bitcoin", disk([2 * FULL_CHAIN_MIN_BYTES]))!.pruneMiB).toBe(0);
    expect(planBitcoinStorage("nix-bitcoin", disk([2e12, 0.9e12]))!.pruneMiB).toBe(PRUNE_TARGET_MIB);
    expect(planBitcoinStorage("nix-bitcoin", disk([FULL_CHAIN_MIN_BYTES + 1e9], null, 2048))!.pruneMiB).toBe(
      PRUNE_TARGET_MIB,
    );
  });

  it("the plan carries it and its summary line (plan notes)", () => {
    const plan = planFromFacts({
      facts: loadExample("netcup-vps"),
      config: { profile: "nix-bitcoin", ssh: { authorizedKeys: [KEY_ED25519] } },
      interactive: false,
    });
    expect(plan.bitcoin?.pruneMiB).toBe(PRUNE_TARGET_MIB);
    expect(plan.notes).toContain(`bitcoin: ${plan.bitcoin!.summary}`);
    const base = planFromFacts({
      facts: loadExample("netcup-vps"),
      config: { ssh: { authorizedKeys: [KEY_ED25519] } },
      interactive: false,
    });
    expect(base.bitcoin).toBeNull();
    expect(base.notes.join("\n")).not.toMatch(/bitcoin:/);
  });

  it("`plan` prints the decision in its summary", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nixnode-btc-plan-"));
    try {
      const cfg = join(dir, "node.json");
      writeFileSync(
        cfg,
        JSON.stringify({ hostname: "btc9", profile: "nix-bitcoin", ssh: { authorizedKeys: [KEY_ED25519] } }),
      );
      const r = await runCli(
        ["plan", "--example", "netcup-vps", "--config", cfg, "--out", join(dir, "o"), "--dry-run"],
        {
          env: { HOME: dir },
        },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /bitcoin: pruned to 4000 MiB of blocks: no data disk, and the system disk \(\d+ GB after swap\) is smaller than the 1 TB a full chain needs/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
