// The pre-generated host key: a real OpenSSH key (ssh-keygen reads it and prints the same
// fingerprint), stored only encrypted in the flake, decrypted by the reference age CLI and by the
// tool into a private extra-files tree.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readIdentityFile } from "../../../src/secrets/age";
import {
  HOST_KEY_AGE,
  HOST_KEY_PUB,
  createSecretTempDir,
  decryptHostKeyInto,
  generateHostKey,
  writeEncryptedHostKey,
} from "../../../src/secrets/host-key";
import { HAVE_AGE, HAVE_SSH_KEYGEN, run, scratch, sshKeygen } from "./tools";

const mode = (p: string) => statSync(p).mode & 0o777;

describe.skipIf(!HAVE_SSH_KEYGEN)("generateHostKey (checked with ssh-keygen)", () => {
  const s = scratch();
  afterAll(() => s.remove());

  it("writes a key ssh-keygen accepts, with the fingerprint ssh-keygen -lf prints", () => {
    const k = generateHostKey("root@alpha");
    expect(k.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
    expect(k.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+ root@alpha$/);
    writeFileSync(s.path("k"), k.privateKey, { mode: 0o600 });
    writeFileSync(s.path("k.pub"), `${k.publicKey}\n`);
    // -y derives the public key from the private file: proves the private key is well-formed and matches
    expect(
      run("ssh-keygen", ["-y", "-f", s.path("k")])
        .toString()
        .trim()
        .split(" ")
        .slice(0, 2),
    ).toEqual(k.publicKey.split(" ").slice(0, 2));
    const lf = run("ssh-keygen", ["-lf", s.path("k.pub")]).toString();
    expect(lf).toContain(k.fingerprint);
    expect(k.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    // and from the private key file too
    expect(run("ssh-keygen", ["-lf", s.path("k")]).toString()).toContain(k.fingerprint);
  });

  it("makes a different key every time", () => {
    expect(generateHostKey().fingerprint).not.toBe(generateHostKey().fingerprint);
  });
});

describe.skipIf(!HAVE_SSH_KEYGEN || !HAVE_AGE)("host key in the flake: secrets/host-key.age + keys/*.pub", () => {
  const s = scratch();
  const flake = s.path("flake");
  const key = generateHostKey("root@alpha");
  beforeAll(async () => {
    sshKeygen(s.path("op_ed"), "ed25519");
    sshKeygen(s.path("op_rsa"), "rsa");
    sshKeygen(s.path("stranger"), "ed25519");
    await writeEncryptedHostKey(flake, key, [
      readFileSync(s.path("op_ed.pub"), "utf8"),
      readFileSync(s.path("op_rsa.pub"), "utf8"),
    ]);
  });
  afterAll(() => s.remove());

  it("stores no plaintext private key: the .age file is armored ciphertext and age -d gives the key back", () => {
    const age = readFileSync(join(flake, HOST_KEY_AGE), "utf8");
    expect(age).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    expect(age).not.toContain("OPENSSH PRIVATE KEY");
    for (const op of ["op_ed", "op_rsa"]) {
      expect(run("age", ["-d", "-i", s.path(op), join(flake, HOST_KEY_AGE)]).toString()).toBe(key.privateKey);
    }
    expect(readFileSync(join(flake, HOST_KEY_PUB), "utf8")).toBe(`${key.publicKey}\n`);
  });

  it("decryptHostKeyInto lays out etc/ssh for --extra-files with private modes, and cleans up", async () => {
    const tmp = createSecretTempDir();
    try {
      expect(mode(tmp.path)).toBe(0o700);
      const d = await decryptHostKeyInto(flake, readIdentityFile(s.path("op_rsa"), "-i"), tmp.path);
      expect(d.fingerprint).toBe(key.fingerprint);
      expect(d.privateKeyPath).toBe(join(d.extraFilesDir, "etc/ssh/ssh_host_ed25519_key"));
      expect(readFileSync(d.privateKeyPath, "utf8")).toBe(key.privateKey);
      expect(mode(d.privateKeyPath)).toBe(0o600);
      expect(mode(d.extraFilesDir)).toBe(0o755);
      expect(mode(join(d.extraFilesDir, "etc/ssh"))).toBe(0o755);
      expect(run("ssh-keygen", ["-lf", d.privateKeyPath]).toString()).toContain(key.fingerprint);
      d.cleanup();
      expect(existsSync(d.privateKeyPath)).toBe(false);
    } finally {
      tmp.cleanup();
    }
    expect(existsSync(tmp.path)).toBe(false);
  });

  it("refuses a key that is not a recipient, naming the file, and writes nothing", async () => {
    const tmp = createSecretTempDir();
    try {
      await expect(decryptHostKeyInto(flake, readIdentityFile(s.path("stranger"), "-i"), tmp.path)).rejects.toThrow(
        /secrets\/host-key.age: none of the given keys/,
      );
      expect(existsSync(join(tmp.path, "extra-files"))).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  it("refuses when the .pub file and the encrypted key disagree", async () => {
    const other = generateHostKey();
    const pubPath = join(flake, HOST_KEY_PUB);
    const saved = readFileSync(pubPath, "utf8");
    writeFileSync(pubPath, `${other.publicKey}\n`);
    const tmp = createSecretTempDir();
    try {
      await expect(decryptHostKeyInto(flake, readIdentityFile(s.path("op_ed"), "-i"), tmp.path)).rejects.toThrow(
        /disagree/,
      );
    } finally {
      tmp.cleanup();
      writeFileSync(pubPath, saved);
    }
  });

  it("refuses to encrypt to nobody, and rejects a malformed operator key by its field", async () => {
    await expect(writeEncryptedHostKey(s.path("f2"), key, [])).rejects.toThrow(/no operator keys/);
    await expect(writeEncryptedHostKey(s.path("f3"), key, ["ssh-ed25519 AAAAnotbase64!!"])).rejects.toThrow(
      /ssh.authorizedKeys\[0\]/,
    );
    expect(existsSync(s.path("f3"))).toBe(false);
  });
});
