// The secrets commands read nixnode.json through the same validated parser as `plan`: a host name
// carrying a newline (which used to become a second line of keys/ssh_host_ed25519_key.pub, so that
// `age -R keys/...pub` encrypted to an extra key) is refused before anything is written.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { UserError } from "../../../src/errors";
import { generateHostKey } from "../../../src/secrets/host-key";
import { HAVE_AGE, HAVE_SSH_KEYGEN, run, scratch, sshKeygen } from "./tools";

describe.skipIf(!HAVE_AGE || !HAVE_SSH_KEYGEN)("secrets commands validate nixnode.json", () => {
  const s = scratch();
  let opPub = "";
  let attackerPub = "";
  beforeAll(() => {
    sshKeygen(s.path("op"), "ed25519", { comment: "alice@laptop" });
    sshKeygen(s.path("attacker"), "ed25519", { comment: "mallory" });
    opPub = readFileSync(s.path("op.pub"), "utf8").trim();
    attackerPub = readFileSync(s.path("attacker.pub"), "utf8").trim();
  });
  afterAll(() => s.remove());
  let n = 0;
  const flakeWith = (config: unknown) => {
    const f = s.path(`f${n++}`);
    mkdirSync(f);
    writeFileSync(join(f, "nixnode.json"), JSON.stringify(config));
    return f;
  };
  const secrets = (f: string, args: string[]) =>
    runCli(["secrets", ...args, "--flake", f, "--log-dir", s.path("logs")], { env: { HOME: s.path("home") } });

  it.each([
    ["a newline and a second key in hostname", () => ({ hostname: `node1\n${attackerPub}` }), "hostname"],
    ["a space in hostname", () => ({ hostname: "node1 extra" }), "hostname"],
    ["an unknown top-level key", () => ({ hostnme: "node1" }), "hostnme"],
    ["a malformed operator key", () => ({ ssh: { authorizedKeys: ["ssh-ed25519 !!!"] } }), "ssh.authorizedKeys[0]"],
  ])("%s: `secrets add` refuses (exit 2, names the field) and writes nothing", async (_n, bad, field) => {
    const config = { hostname: "node1", ssh: { authorizedKeys: [opPub] }, ...bad() };
    const f = flakeWith(config);
    const r = await secrets(f, ["add", "token", "--generate", "hex32"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(field);
    expect(existsSync(join(f, "keys"))).toBe(false);
    expect(existsSync(join(f, "secrets"))).toBe(false);
  });

  it("a valid flake: the host key's .pub is one line, so `age -R` encrypts to exactly the node", async () => {
    const f = flakeWith({ hostname: "node1", ssh: { authorizedKeys: [opPub] } });
    const r = await secrets(f, ["add", "token", "--generate", "hex32"]);
    expect(r.code, r.stderr).toBe(0);
    const pub = readFileSync(join(f, "keys/ssh_host_ed25519_key.pub"), "utf8");
    expect(pub.split("\n")).toEqual([expect.stringMatching(/^ssh-ed25519 [A-Za-z0-9+/]+=* root@node1$/), ""]);
    const bin = run("age", ["-e", "-R", join(f, "keys/ssh_host_ed25519_key.pub")], "x").toString("latin1");
    expect(bin.match(/\n-> ssh-ed25519 /g)).toHaveLength(1);
  });

  it("a host key comment with a newline or a space is refused wherever the key is made (the install too)", () => {
    for (const bad of ["root@node1\nssh-ed25519 AAAA mallory", "root@node 1", ""]) {
      let err: unknown;
      try {
        generateHostKey(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).field).toBe("hostname");
    }
    expect(generateHostKey("root@node-1").publicKey).toMatch(/^ssh-ed25519 \S+ root@node-1$/);
  });
});
