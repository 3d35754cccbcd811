// A private key or an age identity given by mistake (to --ssh-key as a file or as its content, or
// pasted into nixnode.json) is refused by its kind: exit 2, the option or field named, the fix
// given, and not one line of the secret in the error text, the --json error event or the log.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliResult } from "../../helpers/cli";
import { KEY_ED25519 } from "../plan/fixtures";
import { HAVE_AGE, HAVE_SSH_KEYGEN, run, scratch, sshKeygen } from "./tools";

/** Every 10-character stretch of the secret part of each line: none may appear in any output. */
function secretPieces(text: string): string[] {
  const pieces: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^AGE-SECRET-KEY-1/, "").trim();
    if (!line || line.startsWith("-----") || line.startsWith("#")) continue;
    for (let i = 0; i + 10 <= line.length; i += 5) pieces.push(line.slice(i, i + 10));
  }
  return pieces;
}

describe.skipIf(!HAVE_AGE || !HAVE_SSH_KEYGEN)("no private key or age identity is ever echoed", () => {
  const s = scratch();
  let sshPriv = "";
  let rsaPem = "";
  let ageFile = "";
  let ageLine = "";
  const logs = () => s.path("logs");
  const outputs = (r: CliResult) => {
    const logText = existsSync(logs())
      ? readdirSync(logs())
          .map((f) => readFileSync(join(logs(), f), "utf8"))
          .join("\n")
      : "";
    return [r.stdout, r.stderr, logText].join("\n");
  };
  const expectNoLeak = (r: CliResult, secret: string) => {
    const all = outputs(r);
    const leaked = secretPieces(secret).filter((p) => all.includes(p));
    expect(leaked, "pieces of the secret found in the output").toEqual([]);
  };
  const plan = (args: string[]) =>
    runCli(["plan", "--example", "netcup-vps", "--out", s.path("out"), "--dry-run", "--log-dir", logs(), ...args], {
      env: { HOME: s.path("home") },
    });

  beforeAll(() => {
    mkdirSync(s.path("home"));
    sshKeygen(s.path("id_ed25519"), "ed25519", { comment: "alice@laptop" });
    sshKeygen(s.path("id_rsa_pem"), "rsa", { pem: true });
    run("age-keygen", ["-o", s.path("age.key")]);
    sshPriv = readFileSync(s.path("id_ed25519"), "utf8");
    rsaPem = readFileSync(s.path("id_rsa_pem"), "utf8");
    ageFile = readFileSync(s.path("age.key"), "utf8");
    ageLine = ageFile.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"))!;
  });
  afterAll(() => s.remove());
  let caseNo = 0;

  const cases: Array<[string, () => string[], () => string, RegExp]> = [
    [
      "--ssh-key PATH of an OpenSSH private key",
      () => ["--ssh-key", s.path("id_ed25519")],
      () => sshPriv,
      /--ssh-key: .*id_ed25519 is a PRIVATE key \(an OpenSSH private key\); it is not shown[\s\S]*fix: give the public half: .*id_ed25519\.pub/,
    ],
    [
      "--ssh-key=CONTENT of an OpenSSH private key",
      () => [`--ssh-key=${sshPriv}`],
      () => sshPriv,
      /--ssh-key: the value given is a PRIVATE key \(an OpenSSH private key\); it is not shown/,
    ],
    [
      "--ssh-key=CONTENT of a PEM RSA private key",
      () => [`--ssh-key=${rsaPem}`],
      () => rsaPem,
      /--ssh-key: the value given is a PRIVATE key \(a PEM private key\)/,
    ],
    [
      "--ssh-key PATH of an age identity file",
      () => ["--ssh-key", s.path("age.key")],
      () => ageFile,
      /--ssh-key: .*age\.key is a secret \(an age identity \(AGE-SECRET-KEY-1\.\.\.\)\); it is not shown[\s\S]*age identities are not SSH keys/,
    ],
    [
      "--ssh-key CONTENT of an age identity file",
      () => ["--ssh-key", ageFile],
      () => ageFile,
      /--ssh-key: the value given is a secret \(an age identity/,
    ],
    [
      "--ssh-key AGE-SECRET-KEY-1... line",
      () => ["--ssh-key", ageLine],
      () => ageLine,
      /--ssh-key: the value given is a secret \(an age identity/,
    ],
    [
      "--ssh-key CONTENT of an OpenSSH private key as a separate argument (it starts with a dash)",
      () => ["--ssh-key", sshPriv],
      () => sshPriv,
      /--ssh-key: argument is ambiguous/,
    ],
    [
      "--ssh-key with the base64 body of a private key, without its armour",
      () => ["--ssh-key", sshPriv.split("\n")[1]!],
      () => sshPriv,
      /--ssh-key: the value given is a PRIVATE key \(part of an OpenSSH private key\)/,
    ],
  ];

  it.each(cases.map((c) => [c[0], c] as const))(
    "%s: exit 2, named by kind, nothing echoed (text and --json)",
    async (_n, c) => {
      const [, args, secret, message] = c;
      const r = await plan(args());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expectNoLeak(r, secret());
      const j = await plan([...args(), "--json"]);
      expect(j.code).toBe(2);
      const err = j.events.find((e) => e.type === "error")!;
      expect(err.field).toBe("--ssh-key");
      expectNoLeak(j, secret());
      expect(existsSync(s.path("out"))).toBe(false);
    },
  );

  it.each([
    [
      "an age identity in ssh.authorizedKeys",
      () => ({ ssh: { authorizedKeys: [ageLine] } }),
      () => ageLine,
      "ssh.authorizedKeys[0]",
    ],
    [
      "a private key in ssh.authorizedKeys",
      () => ({ ssh: { authorizedKeys: [sshPriv] } }),
      () => sshPriv,
      "ssh.authorizedKeys[0]",
    ],
    ["an age identity as the hostname", () => ({ hostname: ageLine }), () => ageLine, "hostname"],
    ["a private key as the time zone", () => ({ timezone: sshPriv }), () => sshPriv, "timezone"],
  ])(
    "nixnode.json with %s: `plan --config` and `secrets list` name the field, never the value",
    async (_n, cfg, secret, field) => {
      const id = `${field}-${caseNo++}`;
      const file = s.path(`cfg-${id}.json`);
      writeFileSync(file, JSON.stringify(cfg()));
      const r = await plan(["--config", file, "--json"]);
      expect(r.code).toBe(2);
      expect(r.events.find((e) => e.type === "error")!.field).toBe(field);
      expectNoLeak(r, secret());
      const flake = s.path(`flake-${id}`);
      mkdirSync(flake);
      const base = { hostname: "n1", ssh: { authorizedKeys: [KEY_ED25519] } };
      const c = cfg() as Record<string, unknown>;
      writeFileSync(
        join(flake, "nixnode.json"),
        JSON.stringify({ ...base, ...c, ssh: { ...base.ssh, ...(c.ssh as object | undefined) } }),
      );
      const l = await runCli(["secrets", "list", "--flake", flake, "--log-dir", logs()], {
        env: { HOME: s.path("home") },
      });
      expect(l.code).toBe(2);
      expect(l.stderr).toContain(field);
      expectNoLeak(l, secret());
    },
  );
});
