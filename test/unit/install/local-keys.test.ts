// install --local's operator keys: a file, GitHub's <user>.keys (a loopback server here), a pasted line.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fetchGithubKeys, keysFromAnswer, readKeysFile } from "../../../src/install/local/local-keys";

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
let server: Server | null = null;
const requests: string[] = [];
afterEach(() => {
  server?.close();
  server = null;
  requests.length = 0;
});

async function github(routes: Record<string, [number, string]>): Promise<string> {
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const [status, body] = routes[req.url ?? ""] ?? [404, "Not Found"];
    res.writeHead(status).end(body);
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("local install keys", () => {
  it("reads every key of GitHub's <user>.keys from the base URL given", async () => {
    const base = await github({ "/octocat.keys": [200, `${ED}\n\n${ED.replace("IOMqq", "IOMqr")}\n`] });
    const keys = await fetchGithubKeys("octocat", { base });
    expect(keys).toEqual([ED, ED.replace("IOMqq", "IOMqr")]);
    expect(requests).toEqual(["/octocat.keys"]);
  });

  it("an unknown account, an account without keys and a bad name are refused naming --github-keys", async () => {
    const base = await github({ "/empty.keys": [200, "\n"] });
    await expect(fetchGithubKeys("nobody", { base })).rejects.toMatchObject({
      field: "--github-keys",
      message: expect.stringMatching(/no user "nobody"/),
    });
    await expect(fetchGithubKeys("empty", { base })).rejects.toMatchObject({
      field: "--github-keys",
      message: expect.stringMatching(/no public SSH key/),
    });
    await expect(fetchGithubKeys("../etc/passwd", { base })).rejects.toMatchObject({ field: "--github-keys" });
    // the bad name never became a request
    expect(requests).toEqual(["/nobody.keys", "/empty.keys"]);
  });

  it("a file on a stick: every key line, comments skipped; a file without a key is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-local-keys-"));
    writeFileSync(join(dir, "keys"), `# mine\n${ED} me@laptop\n`);
    expect(readKeysFile(join(dir, "keys"))).toEqual([`${ED} me@laptop`]);
    writeFileSync(join(dir, "empty"), "# nothing\n");
    expect(() => readKeysFile(join(dir, "empty"))).toThrow(/holds no public key/);
    expect(() => readKeysFile(join(dir, "missing"))).toThrow(/cannot be read \(ENOENT\)/);
  });

  it("one console answer is a pasted line, a path or github:USER", async () => {
    const base = await github({ "/octocat.keys": [200, `${ED}\n`] });
    expect(await keysFromAnswer(` ${ED} me `, { base })).toEqual([`${ED} me`]);
    expect(await keysFromAnswer("github:octocat", { base })).toEqual([ED]);
    await expect(keysFromAnswer("not a key", { base })).rejects.toThrow(/key/);
  });
});
