// The `secrets` command end to end through the built CLI, checked with the reference age CLI and
// nix-instantiate; afterwards no plaintext exists outside .age files, the log or the temp dirs.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { x25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { generateHostKey, writeEncryptedHostKey } from "../../../src/secrets/host-key";
import { HAVE_AGE, HAVE_SSH_KEYGEN, has, run, scratch, sshKeygen, tryRun } from "./tools";

const RPC_PASSWORD = "s3cret-rpc-Passw0rd-that-must-not-leak";
const EDITED = "edited-value-9f8e7d6c5b4a-that-must-not-leak";

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe.skipIf(!HAVE_AGE || !HAVE_SSH_KEYGEN)("nixnode-install secrets (built CLI, checked with age)", () => {
  const s = scratch();
  const flake = s.path("node");
  const logDir = s.path("logs");
  const tmp = s.path("tmp");
  const hostKey = generateHostKey("root@alpha");
  const env = { TMPDIR: tmp, HOME: s.path("home") };
  const cli = (args: string[], extra: { env?: Record<string, string>; input?: string } = {}) =>
    runCli(["secrets", ...args, "--flake", flake, "--log-dir", logDir], {
      env: { ...env, ...extra.env },
      input: extra.input,
    });
  const seen: string[] = [];

  beforeAll(async () => {
    mkdirSync(tmp, { recursive: true });
    mkdirSync(s.path("home/.ssh"), { recursive: true });
    sshKeygen(s.path("home/.ssh/id_ed25519"), "ed25519", { comment: "alice@laptop" });
    sshKeygen(s.path("bob_rsa"), "rsa", { comment: "bob@desk" });
    run("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", s.path("carol_ecdsa")]);
    const pub = (p: string) => readFileSync(`${p}.pub`, "utf8").trim();
    mkdirSync(flake, { recursive: true });
    writeFileSync(
      join(flake, "nixnode.json"),
      JSON.stringify(
        {
          hostname: "alpha",
          ssh: {
            port: 2222,
            authorizedKeys: [pub(s.path("home/.ssh/id_ed25519")), pub(s.path("bob_rsa")), pub(s.path("carol_ecdsa"))],
            adminUser: null,
          },
        },
        null,
        2,
      ),
    );
    await writeEncryptedHostKey(flake, hostKey, [pub(s.path("home/.ssh/id_ed25519"))]);
    writeFileSync(s.path("host_key"), hostKey.privateKey, { mode: 0o600 });
    writeFileSync(s.path("rpc.txt"), RPC_PASSWORD);
  });
  afterAll(() => s.remove());

  const decrypt = (key: string, name: string) =>
    run("age", ["-d", "-i", key, join(flake, "secrets", `${name}.age`)]).toString();

  it("add --generate wireguard: the operators and the host decrypt a wg-style key; only the public key is printed", async () => {
    const r = await cli(["add", "wireguard-key", "--generate", "wireguard"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ssh.authorizedKeys\[2\] \(ecdsa-sha2-nistp256\)/); // warned, left out
    const priv = decrypt(s.path("home/.ssh/id_ed25519"), "wireguard-key");
    expect(priv).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    seen.push(priv.trim());
    expect(decrypt(s.path("bob_rsa"), "wireguard-key")).toBe(priv);
    expect(decrypt(s.path("host_key"), "wireguard-key")).toBe(priv);
    const pubB64 = Buffer.from(x25519.getPublicKey(new Uint8Array(Buffer.from(priv.trim(), "base64")))).toString(
      "base64",
    );
    expect(r.stdout).toContain(pubB64);
    expect(r.stdout).not.toContain(priv.trim());
    expect(readFileSync(join(flake, "keys/wireguard-key.pub"), "utf8")).toBe(`${pubB64}\n`);
    if (has("wg")) expect(run("wg", ["pubkey"], priv).toString().trim()).toBe(pubB64);
  });

  it("add --from-file and --generate password|hex32 write values of the promised shape", async () => {
    expect((await cli(["add", "rpc-password", "--from-file", s.path("rpc.txt")])).code).toBe(0);
    expect(decrypt(s.path("host_key"), "rpc-password")).toBe(RPC_PASSWORD);
    expect((await cli(["add", "db-password", "--generate", "password"])).code).toBe(0);
    const pw = decrypt(s.path("bob_rsa"), "db-password");
    expect(pw).toMatch(/^[A-Za-z0-9]{32}$/);
    seen.push(pw);
    expect((await cli(["add", "salt", "--generate", "hex32"])).code).toBe(0);
    const hex = decrypt(s.path("bob_rsa"), "salt");
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    seen.push(hex);
    const piped = await cli(["add", "piped", "--from-file", "-"], { input: "from-stdin-value-123" });
    expect(piped.code, piped.stderr).toBe(0);
    expect(decrypt(s.path("host_key"), "piped")).toBe("from-stdin-value-123");
  });

  it("secrets.nix is agenix's format and evaluates; module.nix declares each secret but not the host key", () => {
    const nix = readFileSync(join(flake, "secrets/secrets.nix"), "utf8");
    expect(nix).toMatch(/^let$/m);
    expect(run("nix-instantiate", ["--parse", join(flake, "secrets/secrets.nix")]).length).toBeGreaterThan(0);
    const rules = JSON.parse(
      run("nix-instantiate", ["--eval", "--strict", "--json", join(flake, "secrets/secrets.nix")]).toString(),
    ) as Record<string, { publicKeys: string[] }>;
    const alice = readFileSync(s.path("home/.ssh/id_ed25519.pub"), "utf8").trim();
    const bob = readFileSync(s.path("bob_rsa.pub"), "utf8").trim();
    expect(rules["host-key.age"]!.publicKeys).toEqual([alice, bob]);
    expect(rules["wireguard-key.age"]!.publicKeys).toEqual([alice, bob, hostKey.publicKey]);
    expect(Object.keys(rules).sort()).toEqual([
      "db-password.age",
      "host-key.age",
      "piped.age",
      "rpc-password.age",
      "salt.age",
      "wireguard-key.age",
    ]);
    const names = JSON.parse(
      run("nix-instantiate", [
        "--eval",
        "--strict",
        "--json",
        "-E",
        `builtins.mapAttrs (n: v: baseNameOf (toString v.file)) (import ${join(flake, "secrets/module.nix")} {}).age.secrets`,
      ]).toString(),
    );
    expect(names).toEqual({
      "db-password": "db-password.age",
      piped: "piped.age",
      "rpc-password": "rpc-password.age",
      salt: "salt.age",
      "wireguard-key": "wireguard-key.age",
    });
  });

  it("edit: $EDITOR gets a 0600 file in a 0700 dir holding the plaintext; the new value is re-encrypted; the temp dir is gone", async () => {
    const editor = s.path("editor.sh");
    writeFileSync(
      editor,
      `#!/bin/sh\nstat -c '%a' "$1" > "${s.path("edit-file-mode")}"\nstat -c '%a' "$(dirname "$1")" > "${s.path("edit-dir-mode")}"\nwc -c < "$1" > "${s.path("edit-saw")}"\nprintf '%s' '${EDITED}' > "$1"\n`,
    );
    chmodSync(editor, 0o755);
    const r = await cli(["edit", "rpc-password"], { env: { EDITOR: editor, VISUAL: "" } });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(s.path("edit-file-mode"), "utf8").trim()).toBe("600");
    expect(readFileSync(s.path("edit-dir-mode"), "utf8").trim()).toBe("700");
    expect(Number(readFileSync(s.path("edit-saw"), "utf8").trim())).toBe(RPC_PASSWORD.length); // it saw the old value
    expect(decrypt(s.path("bob_rsa"), "rpc-password")).toBe(EDITED);
    expect(decrypt(s.path("host_key"), "rpc-password")).toBe(EDITED);
    expect(readdirSync(tmp).filter((f) => f.startsWith("nixnode-edit-"))).toEqual([]);
  });

  it("edit: a failing editor changes nothing and still removes the temp dir", async () => {
    const before = readFileSync(join(flake, "secrets/rpc-password.age"));
    const r = await cli(["edit", "rpc-password"], { env: { EDITOR: "false", VISUAL: "" } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not changed/);
    expect(readFileSync(join(flake, "secrets/rpc-password.age"))).toEqual(before);
    expect(readdirSync(tmp).filter((f) => f.startsWith("nixnode-edit-"))).toEqual([]);
  });

  it("edit with no EDITOR and a pipe on stdin takes stdin as the new value (as agenix does)", async () => {
    const r = await cli(["edit", "piped"], { env: { EDITOR: "", VISUAL: "" }, input: "replaced-through-stdin" });
    expect(r.code, r.stderr).toBe(0);
    expect(decrypt(s.path("bob_rsa"), "piped")).toBe("replaced-through-stdin");
  });

  it("list shows who each secret is for; after an operator is removed, list says rekey and rekey locks them out", async () => {
    const l = await cli(["list", "--json"]);
    expect(l.code).toBe(0);
    const data = l.events.find((e) => e.type === "result")!.data as {
      secrets: Array<{ name: string; encryptedTo: string[]; stale: boolean }>;
    };
    expect(data.secrets.find((x) => x.name === "wireguard-key")).toMatchObject({
      encryptedTo: ["operator1", "operator2", "host"],
      stale: false,
    });
    // host-key.age was written to alice only; secrets.nix wants alice + bob
    expect(data.secrets.find((x) => x.name === "host-key")).toMatchObject({ encryptedTo: ["operator1"], stale: true });

    const cfgPath = join(flake, "nixnode.json");
    const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    cfg.ssh.authorizedKeys = [cfg.ssh.authorizedKeys[0]]; // bob leaves
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const l2 = await cli(["list"]);
    expect(l2.stdout).toMatch(/wireguard-key\s+operator1, unknown key, host\s+\(needs: secrets rekey\)/);

    const r = await cli(["rekey"]); // default identity: $HOME/.ssh/id_ed25519
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Rekeyed 6 secrets: db-password, host-key, piped, rpc-password, salt, wireguard-key/);
    expect(tryRun("age", ["-d", "-i", s.path("bob_rsa"), join(flake, "secrets/wireguard-key.age")]).status).not.toBe(0);
    expect(decrypt(s.path("home/.ssh/id_ed25519"), "rpc-password")).toBe(EDITED);
    expect(decrypt(s.path("host_key"), "rpc-password")).toBe(EDITED);
    expect(decrypt(s.path("home/.ssh/id_ed25519"), "host-key")).toBe(hostKey.privateKey);
    expect(tryRun("age", ["-d", "-i", s.path("host_key"), join(flake, "secrets/host-key.age")]).status).not.toBe(0); // the host never decrypts itself
    writeFileSync(join(flake, "secrets/broken.age"), "age-encryption.org/v1\n-> X25519 abc\n");
    const l4 = await cli(["list"]);
    expect(l4.code).toBe(0);
    expect(l4.stdout).toMatch(/broken\s+DAMAGED: secrets\/broken.age: has a truncated age header/);
    rmSync(join(flake, "secrets/broken.age"));
    const l3 = await cli(["list", "--json"]);
    const d3 = l3.events.find((e) => e.type === "result")!.data as { secrets: Array<{ stale: boolean }> };
    expect(d3.secrets.every((x) => !x.stale)).toBe(true);
  });

  it("on a flake without a host key, the first add makes it, says so, and encrypts to it", async () => {
    const f = s.path("fresh");
    mkdirSync(f);
    writeFileSync(
      join(f, "nixnode.json"),
      JSON.stringify({
        hostname: "beta",
        ssh: { authorizedKeys: [readFileSync(s.path("bob_rsa.pub"), "utf8").trim()] },
      }),
    );
    writeFileSync(join(f, "flake.nix"), "{ outputs = { ... }: { }; }\n");
    const r = await runCli(["secrets", "add", "token", "--from-file", "-", "--flake", f, "--log-dir", logDir], {
      env,
      input: "fresh-token-value-42",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/flake.nix does not load agenix yet/);
    writeFileSync(join(f, "flake.nix"), '{ inputs.agenix.url = "github:ryantm/agenix"; outputs = { ... }: { }; }\n');
    const again = await runCli(["secrets", "add", "token2", "--generate", "hex32", "--flake", f, "--log-dir", logDir], {
      env,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/agenix/);
    const fp = /Generated the node's SSH host key \((SHA256:[A-Za-z0-9+/]+)\)/.exec(r.stdout)?.[1];
    expect(fp).toBeDefined();
    const hostPriv = run("age", ["-d", "-i", s.path("bob_rsa"), join(f, "secrets/host-key.age")]).toString();
    writeFileSync(s.path("beta_host"), hostPriv, { mode: 0o600 });
    expect(run("ssh-keygen", ["-lf", s.path("beta_host")]).toString()).toContain(fp);
    expect(run("age", ["-d", "-i", s.path("beta_host"), join(f, "secrets/token.age")]).toString()).toBe(
      "fresh-token-value-42",
    );
    seen.push("fresh-token-value-42");
  });

  describe("bad input: exit 2, the field named, nothing written", () => {
    const snapshot = () =>
      allFiles(flake)
        .map((f) => `${f}:${statSync(f).size}:${readFileSync(f).toString("base64")}`)
        .sort();
    const cases: Array<[string, string[], RegExp, Record<string, string>?]> = [
      [
        "a name with a path in it",
        ["add", "../evil", "--generate", "password"],
        /NAME: "..\/evil" is not a valid secret name/,
      ],
      ["the host key's name", ["add", "host-key", "--generate", "password"], /NAME: "host-key" is the node's host key/],
      [
        "an unknown generator",
        ["add", "x", "--generate", "rsa4096"],
        /--generate: "rsa4096" is not one of wireguard, password, hex32/,
      ],
      [
        "an unreadable --from-file",
        ["add", "x", "--from-file", "/nonexistent/file"],
        /--from-file: cannot read \/nonexistent\/file \(ENOENT\)/,
      ],
      [
        "an existing secret without --force",
        ["add", "salt", "--generate", "hex32"],
        /NAME: secret "salt" already exists/,
      ],
      ["an unreadable identity", ["rekey", "-i", "/nonexistent/key"], /--identity \/nonexistent\/key: cannot read/],
      ["a public key given as identity", ["rekey", "-i", "PUB"], /is not an SSH private key/],
      ["an unknown subcommand", ["remove", "x"], /"remove" is not a secrets command/],
    ];
    for (const [what, args, msg] of cases) {
      it(what, async () => {
        const before = snapshot();
        const r = await cli(args.map((a) => (a === "PUB" ? s.path("bob_rsa.pub") : a)));
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(msg);
        expect(snapshot()).toEqual(before);
      });
    }

    it("a --flake dir that does not exist", async () => {
      const r = await runCli(["secrets", "list", "--flake", s.path("nope")], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--flake: .*nope does not exist/);
    });

    it("a flake whose operator keys cannot be age recipients", async () => {
      const f = s.path("ecdsa-only");
      mkdirSync(f);
      writeFileSync(
        join(f, "nixnode.json"),
        JSON.stringify({ ssh: { authorizedKeys: [readFileSync(s.path("carol_ecdsa.pub"), "utf8").trim()] } }),
      );
      const r = await runCli(["secrets", "add", "x", "--generate", "password", "--flake", f], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/ssh.authorizedKeys: no key can be an age recipient/);
      expect(existsSync(join(f, "secrets"))).toBe(false);
    });

    it("a key that is not a recipient cannot rekey, and no file is rewritten", async () => {
      sshKeygen(s.path("mallory"), "ed25519");
      const before = snapshot();
      const r = await cli(["rekey", "-i", s.path("mallory")]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/secrets\/[a-z-]+\.age: none of the given keys can decrypt this file/);
      expect(snapshot()).toEqual(before);
    });
  });

  it("after all of it: no plaintext secret or private key outside .age files, in the logs, or in temp dirs", () => {
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const needles = [RPC_PASSWORD, EDITED, ...seen, hostKey.privateKey.split("\n")[1]!];
    const files = [...allFiles(logDir), ...allFiles(tmp), ...allFiles(flake).filter((f) => !f.endsWith(".age"))];
    expect(allFiles(logDir).length).toBeGreaterThan(0); // the runs did log
    for (const f of files) {
      const text = readFileSync(f, "latin1");
      for (const n of needles) expect(text.includes(n), `${n.slice(0, 6)}... found in ${f}`).toBe(false);
      expect(text, f).not.toMatch(/BEGIN OPENSSH PRIVATE KEY/);
    }
  });
});
