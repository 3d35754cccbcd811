// loadFactsFile: recognises the tool's facts and nixos-facter reports by content, and refuses
// everything else with a UserError that names the option and says what to give instead.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { importFacterReport } from "../../../src/facts/facter";
import { loadFactsFile } from "../../../src/facts/load";
import { corpusName, describeWithCorpus, itWithCorpus } from "../../helpers/corpus";
import { CORPUS, readCorpus } from "./corpus";
import { sampleFacts } from "./sample-facts";

const dir = mkdtempSync(join(tmpdir(), "nixnode-facts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function refusal(path: string, field?: string): Promise<UserError> {
  const e = await loadFactsFile(path, field).then(
    () => null,
    (x: unknown) => x,
  );
  if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String(e)}`);
  return e;
}

describe("loadFactsFile", () => {
  it("loads the tool's own facts JSON", async () => {
    const r = await loadFactsFile(file("facts.json", JSON.stringify(sampleFacts())));
    expect(r).toEqual({ facts: sampleFacts(), facterReport: null });
  });

  itWithCorpus(corpusName("recognises a nixos-facter report and keeps the raw report"), async () => {
    const path = `${CORPUS}facter/netcup-kvm-4gb_zmberber-supersmash.json`;
    const r = await loadFactsFile(path);
    expect(r.facts.source).toBe("facter");
    expect(r.facts.provider.hint).toBe("netcup");
    expect(r.facterReport).toEqual(JSON.parse(readCorpus("facter/netcup-kvm-4gb_zmberber-supersmash.json")));
  });

  const rows: Array<[string, () => string, RegExp, RegExp]> = [
    ["a missing file", () => join(dir, "nope.json"), /--facts: .*nope\.json does not exist/, /check the path/],
    ["a directory", () => dir, /is a directory, not a file/, /name the JSON file/],
    ["an empty path", () => " ", /--facts: no file given/, /nixnode-install detect/],
    ["text that is not JSON", () => file("bad.json", "schema: 1\n"), /is not valid JSON/, /nixos-facter/],
    ["an empty file", () => file("empty.json", ""), /is not valid JSON/, /detect/],
    [
      "JSON that is neither format",
      () => file("other.json", '{"hello": 1}'),
      /neither nixnode facts \("schema": 1\) nor a nixos-facter report; it holds an object with keys hello/,
      /detect root@HOST --json/,
    ],
    ["a JSON list", () => file("list.json", "[1,2]"), /it holds a list/, /nixos-facter/],
  ];
  it.each(rows)("refuses %s", async (_name, path, message, hint) => {
    const e = await refusal(path());
    expect(e.field).toBe("--facts");
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(hint);
    expect(e.exitCode).toBe(2);
  });

  it("refuses an unreadable file (permission denied) when not running as root", async () => {
    const p = file("secret.json", "{}");
    chmodSync(p, 0o000);
    if (process.getuid?.() === 0) {
      // root reads anything: the file is read and then refused for its content instead
      expect((await refusal(p)).message).toMatch(/neither nixnode facts/);
    } else {
      expect((await refusal(p)).message).toMatch(/cannot be read \(permission denied\)/);
    }
  });

  it("names the bad field inside the file and the option it came from", async () => {
    const f = sampleFacts() as unknown as { disks: Array<{ sizeBytes: unknown }> };
    f.disks[0]!.sizeBytes = "big";
    const e = await refusal(file("big.json", JSON.stringify(f)), "--facts");
    expect(e.field).toBe("facts.disks[0].sizeBytes");
    expect(e.message).toBe('--facts: facts.disks[0].sizeBytes: "big" is not a whole number (0 or more)');
  });

  itWithCorpus(corpusName("refuses a facter report of an unknown version, naming it"), async () => {
    const report = JSON.parse(readCorpus("facter/netcup-kvm-4gb_zmberber-supersmash.json"));
    const e = await refusal(file("v9.json", JSON.stringify({ ...report, version: 9 })), "--facts");
    expect(e.message).toMatch(/--facts: facter report\.version: 9 is not a report version this tool reads \(1 or 2\)/);
  });

  it("uses the caller's option name", async () => {
    expect((await refusal(join(dir, "gone.json"), "facts (nixnode.json)")).field).toBe("facts (nixnode.json)");
  });
});

describe("importFacterReport bad input", () => {
  itWithCorpus(corpusName("refuses a report without memory information"), () => {
    const report = JSON.parse(readCorpus("facter/qemu-vm-report-v2_nixos-facter-modules-basic.json"));
    delete report.smbios.memory_device;
    expect(() => importFacterReport(report)).toThrow(
      /facter report\.hardware\.memory: the report records no memory size/,
    );
  });

  it("refuses something that is not a report", () => {
    expect(() => importFacterReport({ version: 1 })).toThrow(UserError);
  });
});

describeWithCorpus("importFacterReport on damaged reports", () => {
  // Hand-edited or truncated reports must give Facts or a UserError, never a crash.
  const base = JSON.parse(readCorpus("facter/hetzner-cloud-x86-8gb_25huizengek1-infra.json"));
  const sections = Object.keys(base.hardware);
  /** "facts" for valid Facts, "UserError" for a refusal; anything else (a crash) is returned as its message. */
  const outcome = (run: () => { schema: number }): string => {
    try {
      return run().schema === 1 ? "facts" : "bad facts";
    } catch (e) {
      return e instanceof UserError ? "UserError" : String(e);
    }
  };
  it.each(sections)("without hardware.%s", (section) => {
    const report = structuredClone(base);
    delete report.hardware[section];
    expect(outcome(() => importFacterReport(report))).toMatch(/^(facts|UserError)$/);
  });

  it.each(sections)("with hardware.%s replaced by garbage", (section) => {
    const report = structuredClone(base);
    report.hardware[section] = [null, 7, "x", { resources: "nope", unix_device_names: 3, sysfs_id: 5 }];
    expect(outcome(() => importFacterReport(report))).toMatch(/^(facts|UserError)$/);
  });

  it("without smbios: no provider, firmware unknown", () => {
    const report = structuredClone(base);
    delete report.smbios;
    const f = importFacterReport(report);
    expect([f.provider.hint, f.firmware.mode, f.firmware.vendor]).toEqual([null, "unknown", null]);
  });
});
