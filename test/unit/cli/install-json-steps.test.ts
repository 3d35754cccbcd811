// `install --json` reports what it is doing as named step events from the first moment, so a script
// (or a person reading the NDJSON) never waits on silence: connecting is a step that starts, and
// here fails (nothing listens on the port), before the error event.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

const dir = mkdtempSync(join(tmpdir(), "nn-install-json-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback port that was free a moment ago: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("install --json step events", () => {
  it("connect starts as a named step and fails as one, before the error event", async () => {
    mkdirSync(join(dir, "home", ".ssh"), { recursive: true });
    execFileSync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "op",
      "-f",
      join(dir, "home", ".ssh", "id_ed25519"),
    ]);
    const key = readFileSync(join(dir, "home", ".ssh", "id_ed25519.pub"), "utf8").trim();
    writeFileSync(join(dir, "node.json"), JSON.stringify({ hostname: "n1", ssh: { authorizedKeys: [key] } }));
    const port = await closedPort();
    const r = await runCli(
      ["install", `root@127.0.0.1:${port}`, "--config", join(dir, "node.json"), "--yes", "--json"],
      {
        cwd: dir,
        env: { HOME: join(dir, "home"), SSH_AUTH_SOCK: "" },
      },
    );
    expect(r.code).toBe(3);
    const types = r.events.map((e) => `${e.type}${e.phase ? `:${e.phase}:${e.status}` : ""}`);
    expect(types[0]).toBe("step:connect:start");
    expect(r.events[0]!.message).toBe(`Connecting to root@127.0.0.1:${port} …`);
    expect(types).toContain("step:connect:fail");
    expect(types.indexOf("step:connect:fail")).toBeLessThan(types.indexOf("error"));
    expect(types.at(-1)).toBe("error");
  });
});
