// OpenSSH public and private keys, parsed by hand so that the exact SSH wire encoding (which the age
// ssh-ed25519/ssh-rsa stanzas hash and HKDF over) is the bytes from the file, not a re-encoding.
// Private keys: the openssh-key-v1 container (what ssh-keygen writes) and PEM/PKCS#8 RSA/Ed25519.
// Encrypted openssh keys keep their public key in clear, so callers can match stanzas first and
// ask for the passphrase only when the key is actually needed (like the age CLI does).
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { utils as sshUtils } from "ssh2";
import { describeValue } from "../util/secret-kind";

export type SshKeyType = "ssh-ed25519" | "ssh-rsa";

export interface SshPublicKey {
  type: SshKeyType;
  /** The SSH wire encoding (the base64-decoded middle field of a .pub line). */
  wire: Uint8Array;
  comment: string;
  /** ed25519: the 32-byte public key. */
  ed25519?: Uint8Array;
  /** ssh-rsa: a Node public KeyObject. */
  rsa?: KeyObject;
}

export type SshPrivateKey =
  | { type: "ssh-ed25519"; seed: Uint8Array; publicKey: SshPublicKey }
  | { type: "ssh-rsa"; key: KeyObject; publicKey: SshPublicKey };

/** Thrown for malformed keys; callers turn it into a UserError naming the file. */
export class KeyFormatError extends Error {}

/** Cursor over SSH wire data (RFC 4251 string/uint32/mpint). */
class WireReader {
  private off = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.off >= this.buf.length;
  }
  uint32(): number {
    if (this.off + 4 > this.buf.length) throw new KeyFormatError("truncated key data");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.off, 4).getUint32(0);
    this.off += 4;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.uint32();
    if (this.off + n > this.buf.length) throw new KeyFormatError("truncated key data");
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  string(): string {
    return Buffer.from(this.bytes()).toString("utf8");
  }
  rest(): Uint8Array {
    return this.buf.subarray(this.off);
  }
}

function wireString(b: Uint8Array | string): Buffer {
  const data = typeof b === "string" ? Buffer.from(b, "utf8") : Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

export function encodeWire(parts: Array<Uint8Array | string>): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map(wireString)));
}

/** mpint from an unsigned big-endian magnitude: strip leading zeros, prepend 0x00 if the top bit is set. */
function mpint(mag: Uint8Array): Uint8Array {
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  const m = mag.subarray(i);
  return m.length > 0 && m[0]! & 0x80 ? new Uint8Array([0, ...m]) : m;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
const fromB64u = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));

/** SHA256:... exactly as `ssh-keygen -lf` prints it. */
export function sshFingerprint(wire: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(wire).digest("base64").replace(/=+$/, "")}`;
}

export function ed25519PublicWire(pub: Uint8Array): Uint8Array {
  return encodeWire(["ssh-ed25519", pub]);
}

/** Decodes the SSH wire encoding of a public key. */
export function publicKeyFromWire(wire: Uint8Array, comment = ""): SshPublicKey {
  const r = new WireReader(wire);
  const type = r.string();
  if (type === "ssh-ed25519") {
    const pub = r.bytes();
    if (pub.length !== 32 || !r.done) throw new KeyFormatError("malformed ssh-ed25519 public key");
    return { type, wire, comment, ed25519: pub };
  }
  if (type === "ssh-rsa") {
    const e = r.bytes();
    const n = r.bytes();
    if (!r.done) throw new KeyFormatError("malformed ssh-rsa public key");
    const strip = (b: Uint8Array) => (b[0] === 0 ? b.subarray(1) : b);
    const rsa = createPublicKey({ key: { kty: "RSA", n: b64u(strip(n)), e: b64u(strip(e)) }, format: "jwk" });
    return { type, wire, comment, rsa };
  }
  throw new KeyFormatError(`unsupported key type ${describeValue(type)} (use ssh-ed25519 or ssh-rsa)`);
}

/** Parses one OpenSSH public key line: `ssh-ed25519 AAAA... comment`. */
export function parseSshPublicKey(line: string): SshPublicKey {
  const parts = line.trim().split(/\s+/);
  const [type, data] = parts;
  if (!type || !data) throw new KeyFormatError("expected `<type> <base64> [comment]`");
  if (type !== "ssh-ed25519" && type !== "ssh-rsa") {
    throw new KeyFormatError(`unsupported key type ${describeValue(type)} (use ssh-ed25519 or ssh-rsa)`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new KeyFormatError("the key data is not base64");
  const wire = new Uint8Array(Buffer.from(data, "base64"));
  const key = publicKeyFromWire(wire, parts.slice(2).join(" "));
  if (key.type !== type) throw new KeyFormatError(`the line says ${type} but the key data is ${key.type}`);
  return key;
}

export function formatSshPublicKey(key: SshPublicKey): string {
  return `${key.type} ${Buffer.from(key.wire).toString("base64")}${key.comment ? ` ${key.comment}` : ""}`;
}

const OPENSSH_MAGIC = "openssh-key-v1\0";

/** An openssh-key-v1 container: the public key is readable without the passphrase. */
export interface OpensshContainer {
  encrypted: boolean;
  publicKey: SshPublicKey;
  /** Decrypts (when needed) and parses the private part. */
  open(passphrase?: string): SshPrivateKey;
}

function pemBody(text: string, label: string): Uint8Array | null {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  return m ? new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64")) : null;
}

function parsePrivateSection(section: Uint8Array, expected: SshPublicKey): SshPrivateKey {
  const r = new WireReader(section);
  if (r.uint32() !== r.uint32())
    throw new KeyFormatError("the key's check bytes differ: wrong passphrase or corrupted key");
  const type = r.string();
  if (type === "ssh-ed25519") {
    const pub = r.bytes();
    const priv = r.bytes();
    if (pub.length !== 32 || priv.length !== 64) throw new KeyFormatError("malformed ssh-ed25519 private key");
    const seed = priv.slice(0, 32);
    if (Buffer.compare(Buffer.from(ed25519.getPublicKey(seed)), Buffer.from(pub)) !== 0) {
      throw new KeyFormatError("the ed25519 private key does not match its public key");
    }
    return { type, seed, publicKey: { ...publicKeyFromWire(ed25519PublicWire(pub)), comment: r.string() } };
  }
  if (type === "ssh-rsa") {
    const [n, e, d, iqmp, p, q] = [r.bytes(), r.bytes(), r.bytes(), r.bytes(), r.bytes(), r.bytes()];
    const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString("hex") || "0"}`);
    const toB = (v: bigint) => {
      let h = v.toString(16);
      if (h.length % 2) h = `0${h}`;
      return new Uint8Array(Buffer.from(h, "hex"));
    };
    const D = big(d);
    const jwk = {
      kty: "RSA",
      n: b64u(toB(big(n))),
      e: b64u(toB(big(e))),
      d: b64u(toB(D)),
      p: b64u(toB(big(p))),
      q: b64u(toB(big(q))),
      dp: b64u(toB(D % (big(p) - 1n))),
      dq: b64u(toB(D % (big(q) - 1n))),
      qi: b64u(toB(big(iqmp))),
    };
    const key = createPrivateKey({ key: jwk, format: "jwk" });
    const wire = encodeWire(["ssh-rsa", mpint(e), mpint(n)]);
    if (Buffer.compare(Buffer.from(wire), Buffer.from(expected.wire)) !== 0) {
      throw new KeyFormatError("the RSA private key does not match its public key");
    }
    return { type, key, publicKey: { ...publicKeyFromWire(wire), comment: r.string() } };
  }
  throw new KeyFormatError(`unsupported private key type "${type}" (use ssh-ed25519 or ssh-rsa)`);
}

export function parseOpensshContainer(text: string): OpensshContainer {
  const raw = pemBody(text, "OPENSSH PRIVATE KEY");
  if (!raw) throw new KeyFormatError("not an OpenSSH private key");
  const magic = Buffer.from(raw.subarray(0, OPENSSH_MAGIC.length)).toString("latin1");
  if (magic !== OPENSSH_MAGIC) throw new KeyFormatError("not an openssh-key-v1 private key");
  const r = new WireReader(raw.subarray(OPENSSH_MAGIC.length));
  const cipher = r.string();
  r.string(); // kdf name
  r.bytes(); // kdf options
  if (r.uint32() !== 1) throw new KeyFormatError("the file holds more than one key");
  const publicKey = publicKeyFromWire(r.bytes());
  const section = r.bytes();
  const encrypted = cipher !== "none";
  return {
    encrypted,
    publicKey,
    open(passphrase) {
      if (!encrypted) return parsePrivateSection(section, publicKey);
      if (passphrase === undefined) throw new KeyFormatError("the key is encrypted and no passphrase was given");
      // ssh2 (already the SSH client) implements bcrypt-pbkdf and the OpenSSH ciphers; its PEM of the
      // decrypted key goes through the same PEM path, and the public key stays the file's own bytes
      const k = sshUtils.parseKey(text, passphrase);
      if (k instanceof Error)
        throw new KeyFormatError(
          /passphrase|decrypt|integrity/i.test(k.message) ? "wrong passphrase" : `cannot decrypt the key: ${k.message}`,
        );
      const one = Array.isArray(k) ? k[0] : k;
      const pem = one?.getPrivatePEM();
      if (!pem) throw new KeyFormatError("cannot decrypt the key: no private key in it");
      const opened = parsePemPrivateKey(pem);
      if (!Buffer.from(opened.publicKey.wire).equals(Buffer.from(publicKey.wire)))
        throw new KeyFormatError("the decrypted private key does not match the public key stored beside it");
      return { ...opened, publicKey } as SshPrivateKey;
    },
  };
}

/** PEM keys (PKCS#1 RSA, PKCS#8 RSA/Ed25519), encrypted or not, through Node's OpenSSL. */
export function parsePemPrivateKey(text: string, passphrase?: string): SshPrivateKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? { key: text } : { key: text, passphrase });
  } catch (e) {
    const msg = String((e as Error).message);
    if (/passphrase|bad decrypt/i.test(msg))
      throw new KeyFormatError(
        passphrase === undefined ? "the key is encrypted and no passphrase was given" : "wrong passphrase",
      );
    throw new KeyFormatError(`not a private key this tool can read (${msg})`);
  }
  const jwk = key.export({ format: "jwk" });
  if (key.asymmetricKeyType === "ed25519") {
    const seed = fromB64u(jwk.d!);
    return { type: "ssh-ed25519", seed, publicKey: publicKeyFromWire(ed25519PublicWire(fromB64u(jwk.x!))) };
  }
  if (key.asymmetricKeyType === "rsa") {
    const wire = encodeWire(["ssh-rsa", mpint(fromB64u(jwk.e!)), mpint(fromB64u(jwk.n!))]);
    return { type: "ssh-rsa", key, publicKey: publicKeyFromWire(wire) };
  }
  throw new KeyFormatError(`unsupported private key type "${key.asymmetricKeyType}" (use ed25519 or RSA)`);
}

export function isPemEncrypted(text: string): boolean {
  return /ENCRYPTED/.test(text.split("\n").slice(0, 3).join("\n"));
}
