// .nixnode/state.json through its one owner: per-name entries (one per fleet host or target) are
// written without touching the others, and a broken file is refused naming it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readStateEntry, writeStateEntry } from "../../../src/flake/state-file";
import { UserError } from "../../../src/errors";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const flake = () => {
  const d = mkdtempSync(join(tmpdir(), "nn-state-"));
  dirs.push(d);
  return d;
};
const file = (d: string) => join(d, ".nixnode", "state.json");

describe("state-file per-name entries", () => {
  it("two names written interleaved each read back their own; other keys stay; the file stays private", () => {
    const d = flake();
    mkdirSync(join(d, ".nixnode"));
    writeFileSync(file(d), JSON.stringify({ install: { verified: true }, fleetSwitch: { hosts: { a: { port: 1 } } } }));
    writeStateEntry(d, "byHost", "a", { port: 2201 }, "latest");
    writeStateEntry(d, "byHost", "b", { port: 2202 }, "latest");
    writeStateEntry(d, "byHost", "a", { port: 2211 }, "latest");
    expect(readStateEntry(d, "byHost", "a")).toEqual({ port: 2211 });
    expect(readStateEntry(d, "byHost", "b")).toEqual({ port: 2202 });
    expect(readStateEntry(d, "byHost", "c")).toBeNull();
    const all = JSON.parse(readFileSync(file(d), "utf8"));
    expect(all.install).toEqual({ verified: true });
    expect(all.fleetSwitch).toEqual({ hosts: { a: { port: 1 } } });
    expect(all.latest).toEqual({ port: 2211 });
    expect(statSync(file(d)).mode & 0o777).toBe(0o600);
  });

  it("creates the file when there is none, and ignores a map entry that is not an object", () => {
    const d = flake();
    writeStateEntry(d, "byHost", "a", { port: 2201 });
    expect(JSON.parse(readFileSync(file(d), "utf8"))).toEqual({ byHost: { a: { port: 2201 } } });
    writeFileSync(file(d), JSON.stringify({ byHost: { a: "port 2201" }, other: [1] }));
    expect(readStateEntry(d, "byHost", "a")).toBeNull();
    expect(readStateEntry(d, "other", "0")).toBeNull();
  });

  it("a state.json that is not JSON is refused naming it (exit 2), and is left as it was", () => {
    const d = flake();
    mkdirSync(join(d, ".nixnode"));
    writeFileSync(file(d), "{ not json");
    let err: unknown;
    try {
      writeStateEntry(d, "byHost", "a", { port: 2201 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    expect((err as UserError).message).toContain(".nixnode/state.json");
    expect(readFileSync(file(d), "utf8")).toBe("{ not json");
  });
});
