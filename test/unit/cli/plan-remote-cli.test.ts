// `plan user@host` refuses bad local input BEFORE connecting: exit 2, the field named, nothing
// written. The destination is loopback port 1 so that a bug that did connect would be harmless
// (and would show as exit 3, failing the test).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

const dir = mkdtempSync(join(tmpdir(), "nn-plan-remote-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DEST = "root@127.0.0.1:1";
mkdirSync(join(dir, "full"));
writeFileSync(join(dir, "full", "keep.txt"), "mine\n");
writeFileSync(join(dir, "bad.json"), '{ "ssh": { "port": "833w" } }');

describe("plan user@host: bad input, refused before connecting", () => {
  it.each([
    {
      args: ["--facts", "f.json", "--out", "o"],
      field: "--facts",
      text: /--facts and a target "root@127\.0\.0\.1:1" were both given/,
    },
    { args: ["--example", "hetzner-cloud", "--out", "o"], field: "--example", text: /--example and a target/ },
    { args: [], field: "--out", text: /--out: missing/ },
    { args: ["--out", " "], field: "--out", text: /--out: is empty/ },
    { args: ["--out", join(dir, "full")], field: "--out", text: /is not empty/ },
    { args: ["--out", "o", "--config", join(dir, "missing.json")], field: "--config", text: /does not exist/ },
    {
      args: ["--out", "o", "--config", join(dir, "bad.json")],
      field: "ssh.port",
      text: /ssh\.port: "833w" is not a port number \(1-65535\)/,
    },
    {
      args: ["--out", "o", "--ssh-key", join(dir, "nope.pub")],
      field: "--ssh-key",
      text: /--ssh-key: .*nope\.pub cannot be read/,
    },
    {
      args: ["--out", "o", "--ssh-key", "ssh-ed25519 AAAAnotbase64!"],
      field: "ssh.authorizedKeys[0]",
      text: /ssh\.authorizedKeys\[0\]/,
    },
  ])("$field: $text", async ({ args, field, text }) => {
    const r = await runCli(["plan", DEST, ...args, "--json"], {
      cwd: dir,
      env: { HOME: dir, SSH_AUTH_SOCK: undefined },
    });
    expect(r.code).toBe(2);
    const err = r.events.find((e) => e.type === "error")!;
    expect(err.message).toMatch(text);
    expect(err.field).toBe(field);
    expect(existsSync(join(dir, "o"))).toBe(false);
    expect(r.events.some((e) => e.type === "step")).toBe(false); // never started probing
  });
});
