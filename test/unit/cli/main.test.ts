import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

describe("the CLI shell", () => {
  it("prints help listing every command and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["install", "plan", "detect", "lockdown", "secrets"]) expect(r.stdout).toContain(`  ${c}`);
  });

  it("prints the package version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("rejects an unknown flag with exit 2, naming the flag and where help is", async () => {
    const r = await runCli(["plan", "--out-dir", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--out-dir");
    expect(r.stderr).toContain("nixnode-install plan --help");
  });

  it("reports errors as one NDJSON error event with --json", async () => {
    const r = await runCli(["plan", "--nope", "--json"]);
    expect(r.code).toBe(2);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ type: "error", exitCode: 2, field: "--nope" });
  });

  it("answers --help --json with one result event naming the command's options", async () => {
    const r = await runCli(["plan", "--help", "--json"]);
    expect(r.code).toBe(0);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ type: "result", data: { command: "plan" } });
    expect((r.events[0]!.data as { options: string[] }).options).toContain("json");
  });

  it("writes no colour escapes when NO_COLOR is set", async () => {
    const r = await runCli(["plan", "--nope"], { env: { NO_COLOR: "1" } });
    expect(r.stderr).not.toMatch(/\x1b\[/);
  });

  it("names a mistyped command with a did-you-mean instead of 'unexpected argument'", async () => {
    const r = await runCli(["detcet", "root@127.0.0.1:1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"detcet" is not a command');
    expect(r.stderr).toContain("did you mean: nixnode-install detect");
    expect(r.stderr).not.toMatch(/unexpected argument/);
    const j = await runCli(["lockdwon", "root@127.0.0.1:1", "--json"]);
    expect(j.events[0]).toMatchObject({ type: "error", exitCode: 2, field: "command" });
    expect(String(j.events[0]!.hint)).toContain("nixnode-install lockdown");
  });

  it("install --help lists --local; --local on a machine that is not the NixOS installer is refused with the reason", async () => {
    const help = await runCli(["install", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--flake");
    expect(help.stdout).toContain("--local");
    const json = await runCli(["install", "--help", "--json"]);
    expect((json.events[0]!.data as { options: string[] }).options).toContain("local");
    const r = await runCli(["install", "--local", "--yes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--local: (this machine runs .*, not the NixOS installer|needs root)/);
  });
});
