// A nixnode.json that names a key twice is refused (exit 2, the key named as a field path), since
// JSON.parse would silently keep only the last value; the same file without the repeat plans.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findDuplicateKey } from "../../../src/plan/duplicate-keys";
import { runCli } from "../../helpers/cli";
import { KEY_ED25519 } from "./fixtures";

const work = mkdtempSync(join(tmpdir(), "nn-dup-keys-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const key = JSON.stringify(KEY_ED25519);

describe("nixnode.json with a key given twice", () => {
  it.each([
    [`{"hostname": "a", "hostname": "b", "ssh": {"authorizedKeys": [${key}]}}`, "hostname"],
    [`{"ssh": {"port": 2222, "authorizedKeys": [${key}], "port": 22}}`, "ssh.port"],
    [
      `{"ssh": {"authorizedKeys": [${key}]}, "disk": {"data": {"device": "/dev/vdb", "device": "/dev/vda"}}}`,
      "disk.data.device",
    ],
    [`{"ssh": {"authorizedKeys": [${key}]}, "fail2ban": {"enable": true}, "fail2ban": {"enable": false}}`, "fail2ban"],
  ])("%s -> refused naming %s, nothing written", async (text, field) => {
    const cfg = join(work, `${field}.json`);
    writeFileSync(cfg, text);
    const out = join(work, `out-${field}`);
    const r = await runCli(["plan", "--example", "hetzner-cloud", "--config", cfg, "--out", out, "--json"]);
    expect(r.code).toBe(2);
    const err = r.events.find((e) => e.type === "error")!;
    expect(err.field).toBe(field);
    expect(err.message).toMatch(/appears twice/);
    expect(existsSync(out)).toBe(false);
  });

  it("the same answers without the repeat plan", async () => {
    const cfg = join(work, "ok.json");
    writeFileSync(cfg, `{"hostname": "b", "ssh": {"port": 2222, "authorizedKeys": [${key}]}}`);
    const out = join(work, "out-ok");
    const r = await runCli(["plan", "--example", "hetzner-cloud", "--config", cfg, "--out", out, "--json"]);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, "hosts", "b", "host.json"))).toBe(true);
  });

  it("equal keys in different objects, in arrays of objects and inside strings are not repeats", () => {
    expect(
      findDuplicateKey('{"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}], "d": "\\"a\\": 1, \\"a\\""}'),
    ).toBeNull();
    expect(findDuplicateKey('{"c": [{"x": 1}, {"x": 2, "y": 1, "x": 3}]}')).toBe("c[1].x");
  });
});
