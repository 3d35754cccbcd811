// Bad input to `install`, through the built CLI: exit 2, the flag named, nothing written. Every row
// fails before connecting (and the address is loopback, port 9, in case one ever did not).
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

const rows: Array<[string, string[], string]> = [
  ["no target", ["install", "--yes"], "target"],
  ["a bad port in the target", ["install", "root@127.0.0.1:22x", "--yes"], "target"],
  ["the default command (no `install` word)", ["root@127.0.0.1:9", "--yes", "--engine", "docker"], "--engine"],
  ["an unknown engine", ["install", "root@127.0.0.1:9", "--yes", "--engine", "docker"], "--engine"],
  ["an unknown phase", ["install", "root@127.0.0.1:9", "--yes", "--phases", "kexec,format"], "--phases"],
  [
    "a reboot timeout with a unit",
    ["install", "root@127.0.0.1:9", "--yes", "--reboot-timeout", "10m"],
    "--reboot-timeout",
  ],
  ["a reboot timeout too short", ["install", "root@127.0.0.1:9", "--yes", "--reboot-timeout", "1"], "--reboot-timeout"],
  ["no --yes without a terminal", ["install", "root@127.0.0.1:9"], "--yes"],
  ["lockdown --local outside an installed NixOS", ["lockdown", "--local", "--yes"], "--local"],
  ["lockdown --local without --yes and no terminal", ["lockdown", "--local"], "--yes"],
  ["lockdown --local --port 833w", ["lockdown", "--local", "--port", "833w", "--yes"], "--port"],
  ["--local outside the NixOS installer", ["install", "--local", "--yes"], "--local"],
  ["--local with a target too", ["install", "--local", "root@127.0.0.1:9", "--yes"], "--local"],
  ["--local with --phases", ["install", "--local", "--phases", "disko", "--yes"], "--phases"],
  [
    "--keys-file without --local",
    ["install", "root@127.0.0.1:9", "--yes", "--keys-file", "/etc/hostname"],
    "--keys-file",
  ],
  [
    "--github-keys without --local",
    ["install", "root@127.0.0.1:9", "--yes", "--github-keys", "octocat"],
    "--github-keys",
  ],
  ["--reboot without --local", ["install", "root@127.0.0.1:9", "--yes", "--reboot"], "--reboot"],
  ["--github-keys not a user name", ["install", "--local", "--yes", "--github-keys", "a b;rm"], "--github-keys"],
  ["--keys-file with no key in it", ["install", "--local", "--yes", "--keys-file", "/etc/hostname"], "--keys-file"],
  ["two targets", ["install", "root@127.0.0.1:9", "root@127.0.0.2:9", "--yes"], "root@127.0.0.2:9"],
  [
    "a malformed --host-key",
    ["install", "root@127.0.0.1:9", "--yes", "--host-key", "SHA256:short", "-i", "/dev/null"],
    "--host-key",
  ],
];

describe("install: bad input", () => {
  it.each(rows)("%s -> exit 2, nothing written", async (_name, args, field) => {
    const cwd = mkdtempSync(join(tmpdir(), "nn-install-cli-"));
    const r = await runCli([...args, "--json", "--log-dir", join(cwd, "..", `${cwd.split("/").pop()}-logs`)], {
      cwd,
      env: { HOME: cwd, SSH_AUTH_SOCK: "" },
    });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const err = r.events.find((e) => e.type === "error") as { message: string; field?: string };
    expect(`${err.field ?? ""} ${err.message}`).toContain(field);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
