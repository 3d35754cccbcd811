// Interoperability with the reference age CLI (FiloSottile/age, Debian package `age`): what this
// tool encrypts, age decrypts, and the other way round, for ssh-ed25519, ssh-rsa, X25519 and
// scrypt passphrases, armored and binary.
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ageDecrypt, ageEncrypt, parseRecipient, readIdentityFile } from "../../../src/secrets/age";
import { HAVE_AGE, HAVE_SCRIPT, HAVE_SSH_KEYGEN, run, runWithTty, scratch, sshKeygen, tryRun } from "./tools";

const PLAINTEXT = "rpcpassword=correct horse battery staple\n\u00e9\u0000binary-tail";

describe.skipIf(!HAVE_AGE || !HAVE_SSH_KEYGEN)("age interoperability (needs age, age-keygen, ssh-keygen)", () => {
  const s = scratch();
  beforeAll(() => {
    sshKeygen(s.path("id_ed25519"), "ed25519");
    sshKeygen(s.path("id_rsa"), "rsa");
    sshKeygen(s.path("id_enc"), "ed25519", { passphrase: "sesame-42" });
    sshKeygen(s.path("id_rsa_pem"), "rsa", { pem: true });
    sshKeygen(s.path("id_rsa_pem_enc"), "rsa", { pem: true, passphrase: "pem-sesame" });
    run("age-keygen", ["-o", s.path("age.key")]);
    writeFileSync(s.path("plain"), PLAINTEXT);
  });
  afterAll(() => s.remove());

  const pub = (name: string) => readFileSync(s.path(`${name}.pub`), "utf8");
  const ageRecipient = () => /public key: (age1\S+)/.exec(readFileSync(s.path("age.key"), "utf8"))![1]!;

  for (const key of ["id_ed25519", "id_rsa", "id_rsa_pem"]) {
    for (const armor of [false, true]) {
      it(`${key}: the tool encrypts (${armor ? "armored" : "binary"}), age -d -i decrypts`, async () => {
        const out = await ageEncrypt(PLAINTEXT, [parseRecipient(pub(key))], { armor });
        const f = s.path(`${key}-${armor}.tool.age`);
        writeFileSync(f, out);
        expect(Buffer.from(out.subarray(0, 40)).toString()).toMatch(
          armor ? /^-----BEGIN AGE ENCRYPTED FILE-----/ : /^age-encryption.org\/v1\n-> ssh-/,
        );
        expect(run("age", ["-d", "-i", s.path(key), f]).toString()).toBe(PLAINTEXT);
      });

      it(`${key}: age -R encrypts (${armor ? "armored" : "binary"}), the tool decrypts with the private key`, async () => {
        const f = s.path(`${key}-${armor}.ref.age`);
        run("age", ["-e", ...(armor ? ["-a"] : []), "-R", s.path(`${key}.pub`), "-o", f, s.path("plain")]);
        const ids = readIdentityFile(s.path(key), "--identity");
        expect(Buffer.from(await ageDecrypt(readFileSync(f), ids, f)).toString()).toBe(PLAINTEXT);
      });
    }
  }

  it("X25519: the tool encrypts to age1..., age -d -i <age key> decrypts; and back", async () => {
    const f = s.path("x.tool.age");
    writeFileSync(f, await ageEncrypt(PLAINTEXT, [parseRecipient(ageRecipient())], { armor: true }));
    expect(run("age", ["-d", "-i", s.path("age.key"), f]).toString()).toBe(PLAINTEXT);
    const g = s.path("x.ref.age");
    run("age", ["-e", "-r", ageRecipient(), "-o", g, s.path("plain")]);
    const ids = readIdentityFile(s.path("age.key"), "--identity");
    expect(Buffer.from(await ageDecrypt(readFileSync(g), ids, g)).toString()).toBe(PLAINTEXT);
  });

  it("several recipients at once: each key alone decrypts the tool's file with age", async () => {
    const f = s.path("multi.age");
    writeFileSync(
      f,
      await ageEncrypt(
        PLAINTEXT,
        [pub("id_ed25519"), pub("id_rsa"), ageRecipient()].map((r) => parseRecipient(r)),
      ),
    );
    for (const k of ["id_ed25519", "id_rsa", "age.key"])
      expect(run("age", ["-d", "-i", s.path(k), f]).toString()).toBe(PLAINTEXT);
  });

  it("a passphrase-protected ssh key: asked for once, only when a stanza is addressed to it", async () => {
    const asked: string[] = [];
    const ask = async (what: string) => {
      asked.push(what);
      return "sesame-42";
    };
    const other = s.path("enc-other.age");
    run("age", ["-e", "-R", s.path("id_ed25519.pub"), "-o", other, s.path("plain")]);
    const ids = readIdentityFile(s.path("id_enc"), "--identity", ask);
    await expect(ageDecrypt(readFileSync(other), ids, other)).rejects.toThrow(/none of the given keys/);
    expect(asked).toEqual([]);
    const mine = s.path("enc-mine.age");
    run("age", ["-e", "-R", s.path("id_enc.pub"), "-o", mine, s.path("plain")]);
    expect(Buffer.from(await ageDecrypt(readFileSync(mine), ids, mine)).toString()).toBe(PLAINTEXT);
    expect(asked).toEqual(["--identity"]);
  });

  it("a passphrase-protected PEM RSA key: asked for once across several files", async () => {
    let asked = 0;
    const ids = readIdentityFile(s.path("id_rsa_pem_enc"), "-i", async () => {
      asked++;
      return "pem-sesame";
    });
    for (const n of [1, 2, 3]) {
      const f = s.path(`pem-enc-${n}.age`);
      run("age", ["-e", "-R", s.path("id_rsa_pem_enc.pub"), "-o", f, s.path("plain")]);
      expect(Buffer.from(await ageDecrypt(readFileSync(f), ids, f)).toString()).toBe(PLAINTEXT);
    }
    expect(asked).toBe(1);
  });

  it("a wrong passphrase for an encrypted ssh key is a clear error naming the key", async () => {
    const mine = s.path("enc-mine2.age");
    run("age", ["-e", "-R", s.path("id_enc.pub"), "-o", mine, s.path("plain")]);
    const ids = readIdentityFile(s.path("id_enc"), "-i", async () => "not-it");
    await expect(ageDecrypt(readFileSync(mine), ids, mine)).rejects.toThrow(/-i: wrong passphrase/);
  });

  describe.skipIf(!HAVE_SCRIPT)("scrypt passphrases (age -p driven through a pty with `script`)", () => {
    it("the tool encrypts with a passphrase, age -d asks for it and decrypts (armored and binary)", async () => {
      for (const armor of [false, true]) {
        const f = s.path(`pw-${armor}.tool.age`);
        writeFileSync(
          f,
          await ageEncrypt(PLAINTEXT, [], { passphrase: "hunter2-but-longer", scryptWorkFactor: 12, armor }),
        );
        const r = runWithTty(["age", "-d", "-o", s.path(`pw-${armor}.out`), f], "hunter2-but-longer\n");
        expect(r.status, r.output).toBe(0);
        expect(readFileSync(s.path(`pw-${armor}.out`), "utf8")).toBe(PLAINTEXT);
      }
    });

    it("age -p encrypts, the tool decrypts with the passphrase, and refuses a wrong one", async () => {
      const f = s.path("pw.ref.age");
      const r = runWithTty(["age", "-e", "-p", "-a", "-o", f, s.path("plain")], "open-sesame-77\nopen-sesame-77\n");
      expect(r.status, r.output).toBe(0);
      expect(readFileSync(f, "utf8")).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
      expect(Buffer.from(await ageDecrypt(readFileSync(f), [], f, ["open-sesame-77"])).toString()).toBe(PLAINTEXT);
      await expect(ageDecrypt(readFileSync(f), [], f, ["wrong"])).rejects.toThrow(/none of the given keys|passphrase/);
    });
  });

  it("the reference age refuses the tool's file for a key it was not encrypted to", async () => {
    const f = s.path("only-rsa.age");
    writeFileSync(f, await ageEncrypt(PLAINTEXT, [parseRecipient(pub("id_rsa"))]));
    const r = tryRun("age", ["-d", "-i", s.path("id_ed25519"), f]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no identity matched/);
  });
});
