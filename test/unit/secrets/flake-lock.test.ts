// The host key is never silently replaced, and two runs on one flake never lose a secret: real CLI
// processes racing on one flake, a deleted keys/ssh_host_ed25519_key.pub, and locks left by a live
// or a dead process. Every outcome is checked by decrypting with the reference age CLI.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { FLAKE_LOCK } from "../../../src/secrets/flake-lock";
import { HAVE_AGE, HAVE_SSH_KEYGEN, run, scratch, sshKeygen, tryRun } from "./tools";

/** Every file under dir (paths relative to it) with a content hash: "nothing changed" means equal. */
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

describe.skipIf(!HAVE_AGE || !HAVE_SSH_KEYGEN)("one writer per flake, and a host key that is never replaced", () => {
  const s = scratch();
  const env = { HOME: s.path("home"), TMPDIR: s.path("tmp") };
  const op = s.path("home/.ssh/id_ed25519");
  const cli = (flake: string, args: string[], input?: string, extra: Record<string, string> = {}) =>
    runCli(["secrets", ...args, "--flake", flake, "--log-dir", s.path("logs")], {
      env: { ...env, ...extra },
      input,
    });
  /** Runs that queue on purpose wait as long as the test allows, not the default 15 s. */
  const QUEUE = { NIXNODE_LOCK_WAIT_SECONDS: "240" };
  const newFlake = (name: string) => {
    const f = s.path(name);
    mkdirSync(f);
    writeFileSync(
      join(f, "nixnode.json"),
      JSON.stringify({ hostname: name, ssh: { authorizedKeys: [readFileSync(`${op}.pub`, "utf8").trim()] } }),
    );
    return f;
  };
  const decrypt = (key: string, file: string) => run("age", ["-d", "-i", key, file]).toString();
  /** The node's private host key, as the operator gets it back from secrets/host-key.age. */
  const hostKeyOf = (flake: string, name: string) => {
    const p = s.path(`${name}-host-key`);
    writeFileSync(p, decrypt(op, join(flake, "secrets/host-key.age")), { mode: 0o600 });
    return p;
  };

  beforeAll(() => {
    mkdirSync(s.path("home/.ssh"), { recursive: true });
    mkdirSync(s.path("tmp"));
    sshKeygen(op, "ed25519", { comment: "alice@laptop" });
  });
  afterAll(() => s.remove());

  it("six `secrets add` at once on a flake without a host key: one host key, every secret kept and readable by the node", async () => {
    const f = newFlake("race");
    const names = ["a1", "a2", "a3", "a4", "a5", "a6"];
    // the six queue on the lock: on a loaded machine the last may wait longer than the default 15 s
    const results = await Promise.all(
      names.map((n) => cli(f, ["add", n, "--from-file", "-"], `value-of-${n}-xyz`, QUEUE)),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    // exactly one run made the host key; the others found it
    expect(results.filter((r) => /Generated the node's SSH host key/.test(r.stdout))).toHaveLength(1);
    const host = hostKeyOf(f, "race");
    const fp = run("ssh-keygen", ["-lf", host]).toString().split(" ")[1]!;
    expect(run("ssh-keygen", ["-lf", join(f, "keys/ssh_host_ed25519_key.pub")]).toString()).toContain(fp);
    const nix = readFileSync(join(f, "secrets/secrets.nix"), "utf8");
    for (const n of names) {
      expect(nix).toContain(`"${n}.age".publicKeys = operators ++ [ host ];`);
      expect(decrypt(host, join(f, `secrets/${n}.age`))).toBe(`value-of-${n}-xyz`);
      expect(decrypt(op, join(f, `secrets/${n}.age`))).toBe(`value-of-${n}-xyz`);
    }
    expect(existsSync(join(f, FLAKE_LOCK))).toBe(false);
    expect(readdirSync(f).filter((x) => x.includes("nixnode-tmp") || x.includes("stale"))).toEqual([]);
  }, 180_000);

  it("`secrets list` while adds run: never a half-written file, never an error", async () => {
    const f = newFlake("readers");
    const first = await cli(f, ["add", "seed", "--generate", "hex32"]);
    expect(first.code, first.stderr).toBe(0);
    const writers = ["w1", "w2", "w3"].map((n) => cli(f, ["add", n, "--generate", "password"], undefined, QUEUE));
    const readers = [0, 1, 2, 3].map(() => cli(f, ["list", "--json"], undefined, QUEUE));
    const all = await Promise.all([...writers, ...readers]);
    for (const r of all) expect(r.code, r.stderr).toBe(0);
    for (const r of all.slice(3)) {
      const data = r.events.find((e) => e.type === "result")!.data as { secrets: Array<{ problem?: string }> };
      expect(data.secrets.every((x) => !x.problem)).toBe(true);
    }
  }, 180_000);

  describe("keys/ssh_host_ed25519_key.pub deleted from a flake that has secrets", () => {
    let f: string;
    let fingerprint: string;
    beforeAll(async () => {
      f = newFlake("orphan");
      const r = await cli(f, ["add", "rpc", "--from-file", "-"], "rpc-value-31337");
      expect(r.code, r.stderr).toBe(0);
      fingerprint = run("ssh-keygen", ["-lf", join(f, "keys/ssh_host_ed25519_key.pub")])
        .toString()
        .split(" ")[1]!;
      rmSync(join(f, "keys/ssh_host_ed25519_key.pub"));
    });

    it.each([
      ["add --generate", ["add", "more", "--generate", "password"], undefined],
      ["add from stdin", ["add", "more", "--from-file", "-"], "another-value"],
      ["edit from stdin", ["edit", "rpc"], "replaced-value"],
    ] as const)(
      "%s is refused (exit 2): nothing is written, and the message says how to restore it",
      async (_n, args, input) => {
        const before = snapshot(f);
        const r = await cli(f, [...args], input, { EDITOR: "" });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(
          /keys\/ssh_host_ed25519_key\.pub is missing, but secrets\/host-key\.age holds the node's host key/,
        );
        expect(r.stderr).toContain(`git -C ${f} checkout -- keys/ssh_host_ed25519_key.pub`);
        expect(r.stderr).toContain(`nixnode-install secrets rekey --flake ${f}`);
        expect(snapshot(f)).toEqual(before);
      },
    );

    it("`secrets rekey -i KEY` brings the same .pub back from secrets/host-key.age; the old secret stays readable by the node", async () => {
      const r = await cli(f, ["rekey", "-i", op]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Restored keys/ssh_host_ed25519_key.pub from secrets/host-key.age (${fingerprint})`);
      expect(run("ssh-keygen", ["-lf", join(f, "keys/ssh_host_ed25519_key.pub")]).toString()).toContain(fingerprint);
      expect(readFileSync(join(f, "keys/ssh_host_ed25519_key.pub"), "utf8")).toMatch(/^ssh-ed25519 \S+ root@orphan\n$/);
      const host = hostKeyOf(f, "orphan");
      expect(decrypt(host, join(f, "secrets/rpc.age"))).toBe("rpc-value-31337");
      const again = await cli(f, ["add", "more", "--from-file", "-"], "more-value-1");
      expect(again.code, again.stderr).toBe(0);
      expect(decrypt(host, join(f, "secrets/more.age"))).toBe("more-value-1");
    });

    it("with both host-key files gone but secrets left, a new host key is refused too", async () => {
      const g = newFlake("orphan2");
      expect((await cli(g, ["add", "x", "--generate", "hex32"])).code).toBe(0);
      rmSync(join(g, "keys/ssh_host_ed25519_key.pub"));
      rmSync(join(g, "secrets/host-key.age"));
      const before = snapshot(g);
      const r = await cli(g, ["add", "y", "--generate", "hex32"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/are missing, but 1 secret\(s\) are encrypted to a host key/);
      expect(r.stderr).toContain(`git -C ${g} checkout -- keys secrets`);
      expect(snapshot(g)).toEqual(before);
    });
  });

  describe("the lock file", () => {
    it("held by a live process: refused after the wait (exit 2), naming who holds it; nothing changed", async () => {
      const f = newFlake("held");
      expect((await cli(f, ["add", "one", "--generate", "hex32"])).code).toBe(0);
      const holder = spawn("sleep", ["60"]);
      try {
        writeFileSync(
          join(f, FLAKE_LOCK),
          JSON.stringify({
            pid: holder.pid,
            host: hostname(),
            command: "nixnode-install secrets edit one",
            since: "x",
          }),
        );
        const before = snapshot(f);
        const r = await cli(f, ["add", "two", "--generate", "hex32"], undefined, { NIXNODE_LOCK_WAIT_SECONDS: "0.5" });
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`\`nixnode-install secrets edit one\` (pid ${holder.pid} on ${hostname()}`);
        expect(r.stderr).toMatch(/nothing was changed/);
        expect(snapshot(f)).toEqual(before);
      } finally {
        holder.kill();
      }
    });

    it("left by a process that has ended: taken over, the add succeeds, and no lock remains", async () => {
      const f = newFlake("stale");
      const dead = tryRun("sh", ["-c", "echo $$"]).stdout.toString().trim();
      writeFileSync(
        join(f, FLAKE_LOCK),
        JSON.stringify({
          pid: Number(dead),
          host: hostname(),
          command: "nixnode-install secrets add crashed",
          since: "x",
        }),
      );
      const r = await cli(f, ["add", "two", "--generate", "hex32"]);
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(f, "secrets/two.age"))).toBe(true);
      expect(existsSync(join(f, FLAKE_LOCK))).toBe(false);
    });

    it("is created with O_EXCL: a symlink planted at its name is never written through", async () => {
      const f = newFlake("planted");
      const victim = s.path("victim.txt");
      writeFileSync(victim, "untouched\n");
      run("ln", ["-s", victim, join(f, FLAKE_LOCK)]);
      const before = snapshot(f);
      const r = await cli(f, ["add", "z", "--generate", "hex32"], undefined, { NIXNODE_LOCK_WAIT_SECONDS: "0.3" });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/another nixnode-install run holds .*\.nixnode-secrets\.lock/);
      expect(readFileSync(victim, "utf8")).toBe("untouched\n");
      expect(snapshot(f)).toEqual(before);
    });
  });
});
