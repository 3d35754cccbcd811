// The NixOS release and the time zone as the operator writes them in nixnode.json, through the CLI:
// the default is the current stable release, an unknown release or time zone is refused (exit 2,
// the field named, nothing written), and a release past its end of support plans with a warning.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/plan/config";
import { DEFAULT_NIXOS_RELEASE, NIXOS_RELEASES, supportWarning } from "../../../src/plan/releases";
import { runCli } from "../../helpers/cli";
import { KEY_ED25519 } from "./fixtures";

const work = mkdtempSync(join(tmpdir(), "nn-release-tz-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
function config(c: Record<string, unknown>): string {
  const p = join(work, `c${n++}.json`);
  writeFileSync(p, JSON.stringify({ ...c, ssh: { authorizedKeys: [KEY_ED25519] } }));
  return p;
}
const plan = (cfg: string, out: string) =>
  runCli(["plan", "--example", "hetzner-cloud", "--config", cfg, "--out", join(work, out), "--json"], { cwd: work });

describe("nixos: the release table decides", () => {
  it("a plan without `nixos` pins the current stable release in flake.nix and host.json", async () => {
    const r = await plan(config({ hostname: "n1" }), "default");
    expect(r.code).toBe(0);
    const flake = readFileSync(join(work, "default", "flake.nix"), "utf8");
    expect(flake).toContain(`github:NixOS/nixpkgs/nixos-${DEFAULT_NIXOS_RELEASE}`);
    const host = JSON.parse(readFileSync(join(work, "default", "hosts", "n1", "host.json"), "utf8"));
    expect(host.stateVersion).toBe(DEFAULT_NIXOS_RELEASE);
    expect(r.events.some((e) => e.type === "warn" && /left support/.test(String(e.message)))).toBe(false);
  });

  it.each(["24.05", "26.11", "25.10"])(
    "%s (not in the table) is refused, naming nixos and the known ones",
    async (v) => {
      const r = await plan(config({ nixos: v }), `bad-${v}`);
      expect(r.code).toBe(2);
      const err = r.events.find((e) => e.type === "error")!;
      expect(err.field).toBe("nixos");
      for (const known of NIXOS_RELEASES) expect(String(err.message)).toContain(known.version);
      expect(readdirSync(work)).not.toContain(`bad-${v}`);
    },
  );

  it("a release past its end of support plans, with a warning event and a note in the summary", async () => {
    const old = NIXOS_RELEASES.find((r) => supportWarning(r.version))!;
    expect(old).toBeDefined(); // 25.11 left support on 2026-06-30
    const r = await plan(config({ nixos: old.version }), "old");
    expect(r.code).toBe(0);
    const warn = r.events.find((e) => e.type === "warn" && /left support/.test(String(e.message)))!;
    expect(warn.message).toContain(old.endOfSupport);
    const result = r.events.find((e) => e.type === "result")!.data as { notes: string[]; nixos: string };
    expect(result.nixos).toBe(old.version);
    expect(result.notes.some((x) => x.includes(`left support on ${old.endOfSupport}`))).toBe(true);
    expect(readFileSync(join(work, "old", "flake.nix"), "utf8")).toContain(`nixos-${old.version}`);
  });

  it("support is judged by date: the current release is not warned about before its end", () => {
    const cur = NIXOS_RELEASES.find((r) => r.version === DEFAULT_NIXOS_RELEASE)!;
    expect(supportWarning(cur.version, new Date(`${cur.endOfSupport}T12:00:00Z`))).toBeNull();
    expect(supportWarning(cur.version, new Date(Date.parse(`${cur.endOfSupport}T12:00:00Z`) + 86400e3))).toMatch(
      /left support/,
    );
  });
});

describe("timezone: a name from the tz database", () => {
  it.each([
    ["Europe/Berln", /did you mean "Europe\/Berlin"/],
    ["Mars/Phobos", /tz database/],
    ["europe/berlin", /did you mean "Europe\/Berlin"/],
    ["CET+1 Berlin", /tz database/],
    ["", /time zone/],
  ])("%j is refused through the CLI: exit 2, field timezone, nothing written", async (tz, hint) => {
    const r = await plan(config({ timezone: tz }), "tz-bad");
    expect(r.code).toBe(2);
    const err = r.events.find((e) => e.type === "error")!;
    expect(err.field).toBe("timezone");
    expect(`${err.message} ${err.hint}`).toMatch(hint);
    expect(readdirSync(work)).not.toContain("tz-bad");
  });

  it.each(["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/UTC", "Asia/Kolkata"])(
    "%s is accepted",
    (tz) => {
      expect(parseConfig({ timezone: tz }).timezone).toBe(tz);
    },
  );

  it("an accepted zone reaches host.json unchanged", async () => {
    const r = await plan(config({ hostname: "tz1", timezone: "Europe/Berlin" }), "tz-good");
    expect(r.code).toBe(0);
    const host = JSON.parse(readFileSync(join(work, "tz-good", "hosts", "tz1", "host.json"), "utf8"));
    expect(host.timezone).toBe("Europe/Berlin");
  });
});
