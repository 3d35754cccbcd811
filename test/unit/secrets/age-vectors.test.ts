// Known answers: the age specification's CCTV test vectors (X25519, scrypt, armor, header, HMAC,
// STREAM cases) through the tool's decrypt path, and ssh-ed25519/ssh-rsa files made by the
// reference age CLI (test/fixtures/age/SOURCE.md). Failures must be errors that name the file.
// The CCTV vectors are upstream data and are not kept in this repository: point NIXNODE_AGE_CCTV at
// the age/testdata folder of a C2SP/CCTV checkout unpacked OUTSIDE the project (like the nix-lab's
// disko sources); without it those tests report as skipped with the reason.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { ageDecrypt, loadIdentities, readIdentityFile } from "../../../src/secrets/age";
import { Stanza } from "age-encryption";
import { SshEd25519Identity } from "../../../src/secrets/age-ssh";
import { parseOpensshContainer } from "../../../src/secrets/ssh-keys";

const CCTV = process.env.NIXNODE_AGE_CCTV ?? "";
const haveCctv = CCTV !== "" && existsSync(CCTV);
const SSH = new URL("../../fixtures/age/ssh/", import.meta.url);

interface Vector {
  name: string;
  expect: string;
  payload?: string;
  identities: string[];
  passphrases: string[];
  file: Uint8Array;
}

function parseVector(name: string, raw: Buffer): Vector {
  const split = raw.indexOf("\n\n");
  const head = raw.subarray(0, split).toString("utf8").split("\n");
  let file: Uint8Array = raw.subarray(split + 2);
  const v: Vector = { name, expect: "", identities: [], passphrases: [], file };
  let compressed = false;
  for (const line of head) {
    const i = line.indexOf(": ");
    const [k, val] = [line.slice(0, i), line.slice(i + 2)];
    if (k === "expect") v.expect = val;
    else if (k === "payload") v.payload = val;
    else if (k === "identity") v.identities.push(val);
    else if (k === "passphrase") v.passphrases.push(val);
    else if (k === "compressed") compressed = val === "zlib";
  }
  if (compressed) file = new Uint8Array(inflateSync(file));
  v.file = file;
  return v;
}

const vectors = haveCctv
  ? readdirSync(CCTV)
      .filter((n) => !n.startsWith("hybrid")) // post-quantum recipients: not offered by this tool
      .map((n) => parseVector(n, readFileSync(join(CCTV, n))))
  : [];
const cctvSkip = haveCctv
  ? ""
  : " (skipped: set NIXNODE_AGE_CCTV to the age/testdata folder of a C2SP/CCTV checkout outside the project)";

describe.skipIf(!haveCctv)(
  `the age spec's CCTV vectors (X25519, scrypt, armor, header, HMAC, STREAM)${cctvSkip}`,
  () => {
    it("has the vectors on disk", () => {
      expect(vectors.length).toBeGreaterThan(100);
    });

    for (const v of vectors) {
      it(`${v.name}: ${v.expect}`, async () => {
        const run = ageDecrypt(v.file, v.identities, `cctv/${v.name}`, v.passphrases);
        if (v.expect === "success") {
          const out = await run;
          expect(createHash("sha256").update(out).digest("hex")).toBe(v.payload);
          return;
        }
        const err = await run.then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, "must fail").toBeInstanceOf(UserError);
        const msg = (err as Error).message;
        expect(msg.startsWith(`cctv/${v.name}`)).toBe(true);
        if (v.expect === "no match") expect(msg).toMatch(/none of the given keys can decrypt/);
        if (v.expect === "HMAC failure") expect(msg).toMatch(/MAC does not match/);
      });
    }
  },
);

describe("ssh-ed25519 and ssh-rsa files made by the reference age CLI", () => {
  const payload = readFileSync(new URL("payload.txt", SSH), "utf8");
  const id = (f: string, ask?: () => Promise<string>) => readIdentityFile(new URL(f, SSH).pathname, f, ask);
  const file = (f: string) => readFileSync(new URL(f, SSH));

  it("ssh-ed25519, binary", async () => {
    expect(Buffer.from(await ageDecrypt(file("ed25519.age"), id("id_ed25519"), "ed25519.age")).toString()).toBe(
      payload,
    );
  });
  it("ssh-rsa, armored", async () => {
    expect(Buffer.from(await ageDecrypt(file("rsa.age.txt"), id("id_rsa"), "rsa.age.txt")).toString()).toBe(payload);
  });
  it("two recipients: each key alone decrypts", async () => {
    for (const k of ["id_ed25519", "id_rsa"])
      expect(Buffer.from(await ageDecrypt(file("both.age.txt"), id(k), "both")).toString()).toBe(payload);
  });
  it("a passphrase-protected ssh key (bcrypt-pbkdf + aes256-ctr) opens with its passphrase", async () => {
    const r = await ageDecrypt(
      file("ed25519_encrypted.age"),
      id("id_ed25519_encrypted", async () => "kat-passphrase"),
      "enc",
    );
    expect(Buffer.from(r).toString()).toBe(payload);
  });
  it("the wrong key: a clear 'none of the given keys' error naming the file", async () => {
    await expect(ageDecrypt(file("ed25519.age"), id("id_rsa"), "secrets/x.age")).rejects.toThrow(
      /^secrets\/x.age: none of the given keys can decrypt this file$/,
    );
  });

  it("a tampered stanza body addressed to the key is refused as a modified header", async () => {
    const text = file("ed25519.age").toString("latin1");
    const lines = text.split("\n");
    const body = lines[2]!;
    lines[2] = (body[0] === "A" ? "B" : "A") + body.slice(1);
    await expect(ageDecrypt(Buffer.from(lines.join("\n"), "latin1"), id("id_ed25519"), "t.age")).rejects.toThrow(
      /t.age: .*does not decrypt \(tampered header\?\)/,
    );
  });

  it("a changed header line outside the stanza fails the header MAC", async () => {
    const text = file("ed25519.age").toString("latin1");
    const tampered = text.replace("age-encryption.org/v1\n", "age-encryption.org/v1\n-> grease-x y\n\n");
    await expect(ageDecrypt(Buffer.from(tampered, "latin1"), id("id_ed25519"), "t.age")).rejects.toThrow(
      /t.age: the header's MAC does not match/,
    );
  });

  it("a truncated file (payload cut) and a truncated header both fail naming the file", async () => {
    const f = file("ed25519.age");
    await expect(ageDecrypt(f.subarray(0, f.length - 10), id("id_ed25519"), "cut.age")).rejects.toThrow(
      /^cut.age: is damaged or truncated/,
    );
    await expect(ageDecrypt(f.subarray(0, 60), id("id_ed25519"), "cut.age")).rejects.toThrow(/^cut.age: /);
    const armored = file("rsa.age.txt");
    await expect(ageDecrypt(armored.subarray(0, armored.length - 40), id("id_rsa"), "cut.age")).rejects.toThrow(
      /^cut.age: /,
    );
  });

  it("ssh-ed25519 stanzas with a low-order share or the wrong argument count are header errors", () => {
    const key = parseOpensshContainer(readFileSync(new URL("id_ed25519", SSH), "utf8")).open();
    if (key.type !== "ssh-ed25519") throw new Error("fixture");
    const ident = new SshEd25519Identity(key);
    const tag = /-> ssh-ed25519 (\S+)/.exec(file("ed25519.age").toString("latin1"))![1]!;
    const zeroShare = Buffer.alloc(32).toString("base64").replace(/=+$/, "");
    expect(() => ident.unwrapFileKey([new Stanza(["ssh-ed25519", tag, zeroShare], new Uint8Array(32))])).toThrow(
      /low-order/,
    );
    expect(() => ident.unwrapFileKey([new Stanza(["ssh-ed25519", tag], new Uint8Array(32))])).toThrow(
      /wrong number of arguments/,
    );
    // addressed to another key: not an error, just not ours
    expect(
      ident.unwrapFileKey([new Stanza(["ssh-ed25519", "AAAAAA", zeroShare.replace(/^A/, "B")], new Uint8Array(32))]),
    ).toBeNull();
  });

  it("a .pub file or garbage given as identity is refused with the field named", () => {
    expect(() => loadIdentities(readFileSync(new URL("id_rsa.pub", SSH), "utf8"), "-i")).toThrow(
      /^-i: is not an SSH private key/,
    );
  });
});
