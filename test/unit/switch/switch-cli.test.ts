// `switch` bad input through the CLI: exit 2, the flag named with a fix, no connection made (the
// destination is a closed loopback port that would say "connection refused").
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

describe("switch CLI", () => {
  it("is listed in --help", async () => {
    const r = await runCli(["--help"]);
    expect(r.stdout).toContain("  switch");
  });

  it("without a target: exit 2 naming the target and an example", async () => {
    const r = await runCli(["switch", "--flake", mkdtempSync(join(tmpdir(), "nn-sw-"))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[user@\]host\[:port\]/);
  });

  it("a bad --confirm-timeout: exit 2 naming the flag, before any connection", async () => {
    const r = await runCli(["switch", "root@127.0.0.1:1", "--confirm-timeout", "3", "--flake", "."]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--confirm-timeout");
    expect(r.stderr).not.toMatch(/connection refused/);
  });
});
