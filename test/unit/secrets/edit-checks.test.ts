// `secrets edit` checks its local inputs before anything is decrypted, run or written: $EDITOR or
// $VISUAL must be an executable program, -i must be a readable private key, and an empty value is
// refused. A SIGINT while the editor runs cancels (exit 130): nothing written, plaintext removed.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runCli } from "../../helpers/cli";
import { HAVE_AGE, HAVE_SSH_KEYGEN, run, scratch, sshKeygen } from "./tools";

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p.slice(dir.length + 1)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(!HAVE_AGE || !HAVE_SSH_KEYGEN)("secrets edit: checks first, and a clean cancel", () => {
  const s = scratch();
  const op = s.path("home/.ssh/id_ed25519");
  const tmp = s.path("tmp");
  const env = { HOME: s.path("home"), TMPDIR: tmp };
  let n = 0;
  const newFlake = () => {
    const f = s.path(`f${n++}`);
    mkdirSync(f);
    writeFileSync(
      join(f, "nixnode.json"),
      JSON.stringify({ hostname: "edit1", ssh: { authorizedKeys: [readFileSync(`${op}.pub`, "utf8").trim()] } }),
    );
    return f;
  };
  const edit = (f: string, args: string[], extra: Record<string, string>, input?: string) =>
    runCli(["secrets", "edit", ...args, "--flake", f, "--log-dir", s.path("logs")], {
      env: { ...env, VISUAL: "", EDITOR: "", ...extra },
      input,
    });
  const script = (name: string, body: string) => {
    const p = s.path(name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const editTemps = () => readdirSync(tmp).filter((d) => d.startsWith("nixnode-edit-"));

  beforeAll(() => {
    mkdirSync(s.path("home/.ssh"), { recursive: true });
    mkdirSync(tmp);
    sshKeygen(op, "ed25519", { comment: "alice@laptop" });
    writeFileSync(s.path("not-executable"), "#!/bin/sh\nexit 0\n", { mode: 0o644 });
  });
  afterAll(() => s.remove());

  it.each([
    [
      "EDITOR names a program that does not exist",
      { EDITOR: "/nonexistent/editor" },
      /EDITOR: "\/nonexistent\/editor" is not an executable program/,
    ],
    [
      "EDITOR names a program not on PATH",
      { EDITOR: "no-such-editor-xyz --wait" },
      /EDITOR: "no-such-editor-xyz" is not an executable program on PATH/,
    ],
    [
      "EDITOR names a file that is not executable",
      () => ({ EDITOR: s.path("not-executable") }),
      /EDITOR: ".*not-executable" is not an executable program/,
    ],
    [
      "VISUAL (which wins over EDITOR) names nothing runnable",
      { VISUAL: "/nonexistent/visual", EDITOR: "true" },
      /VISUAL: "\/nonexistent\/visual"/,
    ],
  ] as const)("%s: exit 2 before anything is written (no host key is made)", async (_n, e, message) => {
    const f = newFlake();
    const before = snapshot(f);
    const r = await edit(f, ["token"], typeof e === "function" ? e() : { ...e });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/fix: set EDITOR to an installed editor/);
    expect(snapshot(f)).toEqual(before);
    expect(editTemps()).toEqual([]);
  });

  it("-i that cannot be read is refused (exit 2, names it) even for a new secret, before the editor runs", async () => {
    const f = newFlake();
    const ran = s.path("editor-ran");
    const ed = script("marks.sh", `touch '${ran}'; printf new-value > "$1"`);
    const before = snapshot(f);
    const r = await edit(f, ["token", "-i", s.path("nope")], { EDITOR: ed });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--identity .*nope: cannot read/);
    expect(existsSync(ran)).toBe(false);
    expect(snapshot(f)).toEqual(before);
  });

  it("-i given a .pub file is refused the same way", async () => {
    const f = newFlake();
    const before = snapshot(f);
    const r = await edit(f, ["token", "-i", `${op}.pub`], { EDITOR: "true" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--identity .*id_ed25519\.pub: is not an SSH private key/);
    expect(snapshot(f)).toEqual(before);
  });

  it.each([
    ["an editor that empties the file", "truncate.sh", ': > "$1"'],
    ["an editor that leaves only blank lines", "blank.sh", 'printf "\\n  \\n" > "$1"'],
  ])("%s: exit 2, the secret keeps its old value, the temp folder is gone", async (_n, name, body) => {
    const f = newFlake();
    const add = await runCli(
      ["secrets", "add", "token", "--from-file", "-", "--flake", f, "--log-dir", s.path("logs")],
      {
        env,
        input: "old-value-123",
      },
    );
    expect(add.code, add.stderr).toBe(0);
    const before = snapshot(f);
    const r = await edit(f, ["token", "-i", op], { EDITOR: script(name, body) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/value: the edited value is empty; secrets\/token\.age was not changed/);
    expect(snapshot(f)).toEqual(before);
    expect(run("age", ["-d", "-i", op, join(f, "secrets/token.age")]).toString()).toBe("old-value-123");
    expect(editTemps()).toEqual([]);
  });

  it("an empty value on stdin (no EDITOR) is refused with exit 2", async () => {
    const f = newFlake();
    const before = snapshot(f);
    const r = await edit(f, ["token"], {}, "   \n");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/value: stdin is empty/);
    expect(snapshot(f)).toEqual(before);
  });

  it("SIGINT to the tool while the editor runs (an editor that ignores it): exit 130, nothing written, plaintext removed", async () => {
    const f = newFlake();
    const add = await runCli(
      ["secrets", "add", "token", "--from-file", "-", "--flake", f, "--log-dir", s.path("logs")],
      {
        env,
        input: "kept-value-456",
      },
    );
    expect(add.code, add.stderr).toBe(0);
    const started = s.path("editor-started");
    // writes a new value at once, then waits: only a completed editor may have its value saved
    const ed = script("slow.sh", `trap '' INT\nprintf changed-value > "$1"\ntouch '${started}'\nexec sleep 30`);
    const before = snapshot(f);
    const child = spawn(
      process.execPath,
      [BIN, "secrets", "edit", "token", "-i", op, "--flake", f, "--log-dir", s.path("logs")],
      { env: { ...process.env, ...env, EDITOR: ed, VISUAL: "", NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // "exit", not "close": the editor's own `sleep` may keep the inherited pipes open a while
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    for (let i = 0; i < 200 && !existsSync(started); i++) await sleep(50);
    expect(existsSync(started)).toBe(true);
    expect(editTemps()).toHaveLength(1); // the plaintext is there while the editor runs...
    const t0 = Date.now();
    child.kill("SIGINT");
    const code = await exited;
    expect(Date.now() - t0).toBeLessThan(10_000); // cancelled now, not when the editor would have ended
    await sleep(200); // let stderr drain
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/Cancelled while the editor was open; secrets\/token\.age was not changed/);
    expect(snapshot(f)).toEqual(before);
    expect(run("age", ["-d", "-i", op, join(f, "secrets/token.age")]).toString()).toBe("kept-value-456");
    expect(editTemps()).toEqual([]); // ...and gone after the cancel
  });
});
