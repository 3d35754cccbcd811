// `check`: evaluates a node flake's system where Nix exists. Here the operator's nix is the suite's
// stand-in (test/targets/standins/installer/operator-bin), which fails like Nix on a misspelt option.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

const NIX_BIN = fileURLToPath(new URL("../../targets/standins/installer/operator-bin", import.meta.url));
let work: string;
let flake: string;
let env: Record<string, string>;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "nn-check-"));
  flake = join(work, "node");
  const p = await runCli(["plan", "--example", "hetzner-cloud", "--out", flake, "--yes"], { cwd: work });
  expect(p.code, p.stderr).toBe(0);
  env = { PATH: `${NIX_BIN}:${process.env.PATH}`, NIXNODE_STANDIN_NIX_LOG: join(work, "nix.log") };
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("nixnode-install check", () => {
  it("exit 0 with the .drv path when the system evaluates", async () => {
    const r = await runCli(["check", "--flake", flake, "--json"], { cwd: work, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = r.events.find((e) => e.type === "result") as { data: { drvPath: string; host: string } };
    expect(result.data.host).toBe("nixnode");
    expect(result.data.drvPath).toMatch(/^\/nix\/store\/.*-nixos-system-nixnode\.drv$/);
    expect(readFileSync(join(work, "nix.log"), "utf8")).toMatch(
      /^nix eval .*config\.system\.build\.toplevel\.drvPath/m,
    );
  });

  it("exit 3 with Nix's error (option and file) for a misspelt option; the flake is unchanged", async () => {
    const broken = join(work, "broken");
    const p = await runCli(["plan", "--example", "hetzner-cloud", "--out", broken, "--yes"], { cwd: work });
    expect(p.code).toBe(0);
    const own = join(broken, "hosts", "nixnode", "default.nix");
    writeFileSync(own, readFileSync(own, "utf8").replace(/^\{\n/m, '{\n  services.openssh.permitRootLogn = "no";\n'));
    const before = readFileSync(own, "utf8");
    const r = await runCli(["check", "--flake", broken], { cwd: work, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("The option `services.openssh.permitRootLogn' does not exist");
    expect(r.stderr).toContain("hosts/nixnode/default.nix");
    expect(readFileSync(own, "utf8")).toBe(before);
  });

  it("exit 2 for a folder without a flake, and for a flake that is not a nixnode flake", async () => {
    const empty = join(work, "empty");
    mkdirSync(empty);
    const r1 = await runCli(["check", "--flake", empty], { cwd: work, env });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/--flake/);
    const other = join(work, "other");
    mkdirSync(other);
    writeFileSync(join(other, "flake.nix"), "{ outputs = _: { }; }\n");
    const r2 = await runCli(["check", "--flake", other], { cwd: work, env });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/host\.json|hosts\//);
  });

  it("exit 2 without Nix here and without a host, saying what to install or pass", async () => {
    const r = await runCli(["check", "--flake", flake], { cwd: work, env: { PATH: join(work, "no-such-bin") } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nix is not installed on this machine/);
    expect(r.stderr).toMatch(/install Nix|root@HOST/);
  });
});
