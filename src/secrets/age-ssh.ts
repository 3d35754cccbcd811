// age Recipient/Identity implementations for SSH keys (ssh-ed25519, ssh-rsa), byte for byte as the
// reference implementation's agessh package builds them, plugged into age-encryption's interfaces
// (which ship no SSH types). Wire details that matter for interoperability:
//   tag      = base64-raw(SHA-256(ssh wire public key)[:4])
//   ed25519  : pub -> X25519 u = (1+y)/(1-y) mod p (sign bit cleared, no point validation);
//              secret -> SHA-512(seed)[:32]; shared = X25519(tweak, X25519(eph, u)) with
//              tweak = HKDF-SHA256(ikm = empty, salt = ssh wire key, info = label);
//              wrap key = HKDF-SHA256(shared, salt = ephemeral share || recipient u, label);
//              body = ChaCha20-Poly1305(wrap key, zero nonce, file key)
//   rsa      : RSA-OAEP-SHA256 with label "age-encryption.org/v1/ssh-rsa"
import {
  constants,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { Stanza, type Identity, type Recipient } from "age-encryption";
import type { SshPrivateKey, SshPublicKey } from "./ssh-keys";

const ED25519_LABEL = new TextEncoder().encode("age-encryption.org/v1/ssh-ed25519");
const RSA_LABEL = Buffer.from("age-encryption.org/v1/ssh-rsa");
const FILE_KEY_SIZE = 16;

/** Thrown when a stanza addressed to this key is malformed or fails to decrypt (not "not for me"). */
export class StanzaError extends Error {}

/** age's base64: standard alphabet, no padding, canonical. */
export function b64raw(b: Uint8Array): string {
  return Buffer.from(b).toString("base64").replace(/=+$/, "");
}
export function fromB64raw(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*$/.test(s)) return null;
  const b = new Uint8Array(Buffer.from(s, "base64"));
  return b64raw(b) === s ? b : null;
}

export function sshTag(wire: Uint8Array): string {
  return b64raw(sha256(wire).subarray(0, 4));
}

const P = 2n ** 255n - 19n;
const leToBig = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).reverse().toString("hex") || "0"}`);
function bigToLe32(v: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(v.toString(16).padStart(64, "0"), "hex").reverse());
}
function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

/** Ed25519 public key -> Montgomery u, exactly as agessh's ed25519PublicKeyToCurve25519. */
export function ed25519PublicToX25519(pub: Uint8Array): Uint8Array {
  const yBytes = Uint8Array.from(pub);
  yBytes[31]! &= 0x7f;
  const y = leToBig(yBytes);
  const denom = (((1n - y) % P) + P) % P;
  if (denom === 0n) throw new StanzaError("invalid ed25519 public key (y = 1)");
  const u = (((((y + 1n) % P) * modPow(denom, P - 2n, P)) % P) + P) % P;
  return bigToLe32(u);
}

export function ed25519SecretToX25519(seed: Uint8Array): Uint8Array {
  return sha512(seed).subarray(0, 32);
}

/** Go's hkdf.New(sha256.New, nil, wire, label): the SSH wire key is the SALT, the secret is empty. */
function tweakFor(wire: Uint8Array): Uint8Array {
  return hkdf(sha256, new Uint8Array(0), wire, ED25519_LABEL, 32);
}

const zeroNonce = () => new Uint8Array(12);

// X25519 through OpenSSL (node:crypto): ~50x faster than pure JS, and it refuses an all-zero
// shared secret (low-order points) as Go's curve25519.X25519 does.
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");
const BASEPOINT = new Uint8Array(32);
BASEPOINT[0] = 9;
function x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: "der", type: "pkcs8" });
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, u]), format: "der", type: "spki" });
  try {
    return new Uint8Array(diffieHellman({ privateKey, publicKey }));
  } catch {
    throw new StanzaError("X25519 produced the all-zero value (low-order point)");
  }
}

export class SshEd25519Recipient implements Recipient {
  private readonly u: Uint8Array;
  constructor(private readonly key: SshPublicKey) {
    if (key.type !== "ssh-ed25519" || !key.ed25519) throw new Error("not an ssh-ed25519 key");
    this.u = ed25519PublicToX25519(key.ed25519);
  }
  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const ephemeral = new Uint8Array(randomBytes(32));
    const share = x25519(ephemeral, BASEPOINT);
    let shared = x25519(ephemeral, this.u);
    shared = x25519(tweakFor(this.key.wire), shared);
    const salt = new Uint8Array([...share, ...this.u]);
    const wrapKey = hkdf(sha256, shared, salt, ED25519_LABEL, 32);
    const body = chacha20poly1305(wrapKey, zeroNonce()).encrypt(fileKey);
    return [new Stanza(["ssh-ed25519", sshTag(this.key.wire), b64raw(share)], body)];
  }
}

export class SshRsaRecipient implements Recipient {
  constructor(private readonly key: SshPublicKey) {
    if (key.type !== "ssh-rsa" || !key.rsa) throw new Error("not an ssh-rsa key");
  }
  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const body = publicEncrypt(
      { key: this.key.rsa!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: RSA_LABEL },
      fileKey,
    );
    return [new Stanza(["ssh-rsa", sshTag(this.key.wire)], new Uint8Array(body))];
  }
}

export function sshRecipient(key: SshPublicKey): Recipient {
  return key.type === "ssh-ed25519" ? new SshEd25519Recipient(key) : new SshRsaRecipient(key);
}

export class SshEd25519Identity implements Identity {
  private readonly secret: Uint8Array;
  private readonly ourU: Uint8Array;
  private readonly tag: string;
  constructor(private readonly key: Extract<SshPrivateKey, { type: "ssh-ed25519" }>) {
    this.secret = ed25519SecretToX25519(key.seed);
    this.ourU = x25519(this.secret, BASEPOINT);
    this.tag = sshTag(key.publicKey.wire);
  }
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== "ssh-ed25519") continue;
      if (s.args.length !== 3)
        throw new StanzaError("invalid ssh-ed25519 recipient stanza (wrong number of arguments)");
      const share = fromB64raw(s.args[2]!);
      if (!share || share.length !== 32)
        throw new StanzaError("invalid ssh-ed25519 recipient stanza (bad ephemeral share)");
      if (s.args[1] !== this.tag) continue;
      let shared: Uint8Array;
      try {
        shared = x25519(this.secret, share);
      } catch {
        throw new StanzaError("invalid ssh-ed25519 recipient stanza (low-order ephemeral share)");
      }
      shared = x25519(tweakFor(this.key.publicKey.wire), shared);
      const wrapKey = hkdf(sha256, shared, new Uint8Array([...share, ...this.ourU]), ED25519_LABEL, 32);
      return openFileKey(wrapKey, s.body, "ssh-ed25519");
    }
    return null;
  }
}

export class SshRsaIdentity implements Identity {
  private readonly tag: string;
  constructor(private readonly key: Extract<SshPrivateKey, { type: "ssh-rsa" }>) {
    this.tag = sshTag(key.publicKey.wire);
  }
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== "ssh-rsa") continue;
      if (s.args.length !== 2) throw new StanzaError("invalid ssh-rsa recipient stanza (wrong number of arguments)");
      if (s.args[1] !== this.tag) continue;
      let fileKey: Buffer;
      try {
        fileKey = privateDecrypt(
          { key: this.key.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: RSA_LABEL },
          s.body,
        );
      } catch {
        throw new StanzaError("the ssh-rsa stanza addressed to this key does not decrypt (tampered header?)");
      }
      if (fileKey.length !== FILE_KEY_SIZE) throw new StanzaError("invalid ssh-rsa stanza (wrong file key size)");
      return new Uint8Array(fileKey);
    }
    return null;
  }
}

function openFileKey(wrapKey: Uint8Array, body: Uint8Array, type: string): Uint8Array {
  if (body.length !== FILE_KEY_SIZE + 16)
    throw new StanzaError(`invalid ${type} stanza (body is ${body.length} bytes, expected 32)`);
  try {
    return chacha20poly1305(wrapKey, zeroNonce()).decrypt(body);
  } catch {
    throw new StanzaError(`the ${type} stanza addressed to this key does not decrypt (tampered header?)`);
  }
}

export function sshIdentity(key: SshPrivateKey): Identity {
  return key.type === "ssh-ed25519" ? new SshEd25519Identity(key) : new SshRsaIdentity(key);
}
