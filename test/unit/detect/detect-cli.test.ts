// `detect` bad input through the built CLI: exit 2, the field named, a fix, nothing contacted.
// And `detect --local`, which probes this machine without SSH.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

const dir = mkdtempSync(join(tmpdir(), "nn-detect-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("detect: bad input", () => {
  it.each([
    { args: ["detect"], field: "target", text: /target: missing/ },
    {
      args: ["detect", "--local", "root@192.0.2.1"],
      field: "--local",
      text: /--local and a target "root@192\.0\.2\.1" were both given/,
    },
    { args: ["detect", "root@192.0.2.1:833w"], field: "target", text: /833w/ },
    { args: ["detect", "root@192.0.2.1", "192.0.2.2"], field: "192.0.2.2", text: /unexpected argument "192\.0\.2\.2"/ },
    {
      args: ["detect", "root@192.0.2.1", "--host-key", "MD5:aa"],
      field: "--host-key",
      text: /--host-key: "MD5:aa" is not a SHA256 fingerprint/,
    },
    {
      args: ["detect", "root@192.0.2.1", "--connect-timeout", "soon"],
      field: "--connect-timeout",
      text: /--connect-timeout: "soon"/,
    },
    { args: ["detect", "root@192.0.2.1", "--bogus"], field: "--bogus", text: /--bogus/ },
    {
      args: ["detect", "root@192.0.2.1", "--save", "/nonexistent-dir/facts.json"],
      field: "--save",
      text: /--save: the folder \/nonexistent-dir does not exist/,
    },
    { args: ["detect", "root@192.0.2.1", "--save", "/tmp"], field: "--save", text: /--save: \/tmp is a folder/ },
  ])("$args.1 $args.2 -> exit 2 naming $field", async ({ args, field, text }) => {
    const r = await runCli([...args, "--json"], { env: { HOME: dir } });
    expect(r.code).toBe(2);
    const err = r.events.find((e) => e.type === "error")!;
    expect(err.message).toMatch(text);
    expect(err.field).toBe(field);
    expect(err.hint).toBeTruthy();
  });
});

describe("detect --local", () => {
  it("probes this machine, prints the report and the verdict, exit 0; --save writes the facts", async () => {
    const save = join(dir, "facts.json");
    const r = await runCli(["detect", "--local", "--save", save]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Host +\S+ · /m);
    expect(r.stdout).toMatch(/^Disks$/m);
    expect(r.stdout).toMatch(/^Preflight: /m);
    const facts = JSON.parse(readFileSync(save, "utf8"));
    expect(facts).toMatchObject({ schema: 1, source: "probe" });
    expect(r.stdout).toContain(`Facts written to ${save}`);
  });
});
