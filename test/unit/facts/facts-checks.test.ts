// Facts that contradict themselves are refused with the field named (a disk whose path is another
// disk, two disks that each have / on a partition), while root on RAID across two disks is kept;
// and the NDJSON that `detect --json > facts.json` writes is read as the facts it carries.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { loadFactsFile } from "../../../src/facts/load";
import type { Facts } from "../../../src/facts/types";
import { validateFacts } from "../../../src/facts/validate";
import { disk, makeFacts } from "../plan/fixtures";

const work = mkdtempSync(join(tmpdir(), "nn-facts-checks-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function refusal(f: unknown): UserError {
  try {
    validateFacts(f);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("accepted");
}

const part = (name: string, mountpoints: string[], fstype = "ext4") => ({
  name,
  path: `/dev/${name}`,
  sizeBytes: 40 * 1024 ** 3,
  fstype,
  label: null,
  uuid: null,
  mountpoints,
});
const facts = (disks: Facts["disks"]) => ({ ...structuredClone(makeFacts()), disks });

describe("facts: disks that contradict themselves", () => {
  it("a disk whose path names another disk is refused at its path", () => {
    const e = refusal(facts([disk("vda", 80, { holdsRoot: true }), disk("vdb", 80, { path: "/dev/vda" })]));
    expect(e.field).toBe("facts.disks[1].path");
    expect(e.message).toMatch(/\/dev\/vda is not the disk named "vdb"/);
  });

  it("two disks holding / where / is a partition of one of them is refused at the second", () => {
    const e = refusal(
      facts([
        disk("vda", 80, { holdsRoot: true, mountpoints: ["/"], partitions: [part("vda1", ["/"])] }),
        disk("vdb", 80, { holdsRoot: true, mountpoints: ["/"], partitions: [part("vdb1", ["/"])] }),
      ]),
    );
    expect(e.field).toBe("facts.disks[1].holdsRoot");
    expect(e.message).toMatch(/both \/dev\/vda and \/dev\/vdb are said to hold \//);
  });

  it("two disks holding / with no array member between them is refused", () => {
    const e = refusal(
      facts([
        disk("vda", 80, { holdsRoot: true, partitions: [part("vda1", [])] }),
        disk("vdb", 80, { holdsRoot: true, partitions: [part("vdb1", [])] }),
      ]),
    );
    expect(e.field).toBe("facts.disks[1].holdsRoot");
    expect(e.message).toMatch(/carries no RAID, ZFS or LVM member/);
  });

  it("root on RAID1 across two disks (no partition mounted at / itself) is accepted", () => {
    const raid = facts([
      disk("nvme0n1", 512, {
        holdsRoot: true,
        mountpoints: ["/"],
        partitions: [part("nvme0n1p2", [], "linux_raid_member")],
      }),
      disk("nvme1n1", 512, {
        holdsRoot: true,
        mountpoints: ["/"],
        partitions: [part("nvme1n1p2", [], "linux_raid_member")],
      }),
    ]);
    expect(validateFacts(raid).disks.filter((d) => d.holdsRoot)).toHaveLength(2);
  });

  it("cciss-style names map to their /dev path", () => {
    const f = facts([disk("cciss!c0d0", 80, { path: "/dev/cciss/c0d0", holdsRoot: true })]);
    expect(validateFacts(f).disks[0]!.path).toBe("/dev/cciss/c0d0");
  });
});

describe("facts file: the stream `detect --json` prints", () => {
  const stream = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join("\n") + "\n";

  it("step events then a result carrying the facts: the facts are read", async () => {
    const f = makeFacts({ hostname: "from-stream" });
    const p = join(work, "stream.json");
    writeFileSync(
      p,
      stream([
        { type: "step", phase: "detect", status: "start", message: "Probing…", time: 1 },
        { type: "step", phase: "detect", status: "done", message: "Probed", time: 2 },
        { type: "result", data: { facts: f, verdict: { ok: true, checks: [] }, saved: null }, time: 3 },
      ]),
    );
    const loaded = await loadFactsFile(p);
    expect(loaded.facts).toEqual(f);
  });

  it("a stream without a result (detect failed) is refused naming --facts", async () => {
    const p = join(work, "failed.json");
    writeFileSync(p, stream([{ type: "error", message: "target: cannot connect", exitCode: 3, time: 1 }]));
    await expect(loadFactsFile(p)).rejects.toMatchObject({ field: "--facts" });
  });

  it("broken facts inside the stream are refused at their field", async () => {
    const bad = { ...structuredClone(makeFacts()), memory: { totalBytes: "lots", swapBytes: 0 } };
    const p = join(work, "bad-stream.json");
    writeFileSync(
      p,
      stream([
        { type: "step", phase: "detect", status: "start", message: "x", time: 1 },
        { type: "result", data: { facts: bad }, time: 2 },
      ]),
    );
    await expect(loadFactsFile(p)).rejects.toMatchObject({ field: "facts.memory.totalBytes" });
  });
});
