// The one place that turns operator input (recipient lines, identity files, passphrases) into age
// recipients/identities, and encrypts/decrypts files with them, armored or binary. Errors name the
// file or key they concern and say what to do.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Decrypter, Encrypter, armor, type Identity, type Recipient } from "age-encryption";
import { UserError, badField } from "../errors";
import { SshEd25519Identity, SshRsaIdentity, StanzaError, sshIdentity, sshRecipient, sshTag } from "./age-ssh";
import {
  KeyFormatError,
  isPemEncrypted,
  parseOpensshContainer,
  parsePemPrivateKey,
  parseSshPublicKey,
  type SshPrivateKey,
} from "./ssh-keys";

export type AskPassphrase = (what: string) => Promise<string>;

/** What age-encryption accepts: an object, or an age1... / AGE-SECRET-KEY-1... string it parses itself. */
export type AgeRecipient = Recipient | string;
export type AgeIdentity = Identity | string;

/** A recipient line: `ssh-ed25519 AAAA...`, `ssh-rsa AAAA...` or `age1...`. */
export function parseRecipient(line: string, field = "recipient"): AgeRecipient {
  const s = line.trim();
  if (/^age1/.test(s)) {
    try {
      new Encrypter().addRecipient(s); // validates the bech32 encoding and the key length
    } catch (e) {
      throw badField(field, `"${s.slice(0, 16)}..." is not a valid age recipient (${(e as Error).message})`);
    }
    return s;
  }
  try {
    return sshRecipient(parseSshPublicKey(s));
  } catch (e) {
    if (e instanceof KeyFormatError)
      throw badField(
        field,
        e.message,
        "give an OpenSSH public key line (ssh-ed25519 or ssh-rsa) or an age1... recipient",
      );
    throw e;
  }
}

/**
 * Identity file: an OpenSSH private key (openssh-key-v1 or PEM; encrypted ones ask for the
 * passphrase only when a stanza is addressed to the key) or an age key file (AGE-SECRET-KEY-1 lines).
 */
export function loadIdentities(text: string, field: string, ask?: AskPassphrase): AgeIdentity[] {
  if (/AGE-SECRET-KEY-1/.test(text) && !/-----BEGIN/.test(text)) {
    const keys = text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    return keys.map((k) => {
      if (!k.startsWith("AGE-SECRET-KEY-1"))
        throw badField(field, "has a line that is not an AGE-SECRET-KEY-1... identity");
      try {
        new Decrypter().addIdentity(k); // validates
      } catch {
        throw badField(field, "holds a malformed AGE-SECRET-KEY-1... identity", "regenerate it with age-keygen");
      }
      return k;
    });
  }
  try {
    if (/-----BEGIN OPENSSH PRIVATE KEY-----/.test(text)) {
      const c = parseOpensshContainer(text);
      if (!c.encrypted) return [sshIdentity(c.open())];
      return [lazyIdentity(c.publicKey.wire, c.publicKey.type, async () => c.open(await askFor(ask, field)), field)];
    }
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      if (!isPemEncrypted(text)) return [sshIdentity(parsePemPrivateKey(text))];
      // PEM hides the public key behind the encryption: ask at the first file, once.
      let opened: Promise<Identity> | null = null;
      const open = async () => {
        try {
          return sshIdentity(parsePemPrivateKey(text, await askFor(ask, field)));
        } catch (e) {
          opened = null; // a wrong passphrase may be retried by the next file
          if (e instanceof KeyFormatError) throw badField(field, e.message);
          throw e;
        }
      };
      return [{ unwrapFileKey: async (st) => (await (opened ??= open())).unwrapFileKey(st) }];
    }
  } catch (e) {
    if (e instanceof KeyFormatError) throw badField(field, e.message);
    throw e;
  }
  throw badField(
    field,
    "is not an SSH private key or an age identity file",
    "give the private key (e.g. ~/.ssh/id_ed25519), not the .pub file",
  );
}

async function askFor(ask: AskPassphrase | undefined, field: string): Promise<string> {
  if (!ask)
    throw badField(
      field,
      "is encrypted with a passphrase and this run cannot ask for it",
      "run interactively, or use an unencrypted key / ssh-keygen -p",
    );
  return ask(field);
}

/** Checks tags first, so the passphrase is asked only for files actually encrypted to this key. */
function lazyIdentity(
  wire: Uint8Array,
  type: SshPrivateKey["type"],
  open: () => Promise<SshPrivateKey>,
  field: string,
): Identity {
  const tag = sshTag(wire);
  let opened: Identity | null = null;
  return {
    async unwrapFileKey(stanzas) {
      if (!stanzas.some((s) => s.args[0] === type && s.args[1] === tag)) return null;
      if (!opened) {
        try {
          const key = await open();
          opened = key.type === "ssh-ed25519" ? new SshEd25519Identity(key) : new SshRsaIdentity(key);
        } catch (e) {
          if (e instanceof KeyFormatError) throw badField(field, e.message);
          throw e;
        }
      }
      return opened.unwrapFileKey(stanzas);
    },
  };
}

export function readIdentityFile(path: string, field: string, ask?: AskPassphrase): AgeIdentity[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw badField(
      field,
      `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      "give a readable private key file with -i/--identity",
    );
  }
  return loadIdentities(text, field, ask);
}

/**
 * The operator's identities: the files given (-i/--identity, relative to cwd), or else
 * ~/.ssh/id_ed25519 and ~/.ssh/id_rsa where they exist. `field` names the option in errors.
 */
export function loadOperatorIdentities(opts: {
  given: string[];
  home: string;
  cwd: string;
  ask?: AskPassphrase;
  field?: string;
}): AgeIdentity[] {
  const field = opts.field ?? "--identity";
  if (opts.given.length)
    return opts.given.flatMap((p) => readIdentityFile(resolve(opts.cwd, p), `${field} ${p}`, opts.ask));
  const found = ["id_ed25519", "id_rsa"].map((f) => join(opts.home, ".ssh", f)).filter((p) => existsSync(p));
  if (!found.length)
    throw badField(
      field,
      "no private key given and none found at ~/.ssh/id_ed25519 or ~/.ssh/id_rsa",
      "pass the operator's SSH private key with -i PATH",
    );
  return found.flatMap((p) => readIdentityFile(p, `${field} ${p}`, opts.ask));
}

export interface EncryptOptions {
  armor?: boolean;
  /** scrypt instead of recipients. */
  passphrase?: string;
  scryptWorkFactor?: number;
}

export async function ageEncrypt(
  plaintext: Uint8Array | string,
  recipients: AgeRecipient[],
  opts: EncryptOptions = {},
): Promise<Uint8Array> {
  const e = new Encrypter();
  if (opts.passphrase !== undefined) {
    e.setPassphrase(opts.passphrase);
    if (opts.scryptWorkFactor) e.setScryptWorkFactor(opts.scryptWorkFactor);
  } else {
    if (recipients.length === 0)
      throw new UserError("no recipients to encrypt to", {
        hint: "add an operator key (ssh.authorizedKeys) or a host key",
      });
    for (const r of recipients) e.addRecipient(r);
  }
  const out = await e.encrypt(plaintext);
  return opts.armor ? new TextEncoder().encode(armor.encode(out)) : out;
}

export function isArmored(data: Uint8Array): boolean {
  const head = Buffer.from(data.subarray(0, 64)).toString("latin1").trimStart();
  return head.startsWith("-----BEGIN AGE ENCRYPTED FILE-----");
}

/**
 * Decrypts an age file (armored or binary). `field` names the file in errors. Tampered headers,
 * wrong keys and truncated files become UserErrors that say which of these it is.
 */
export async function ageDecrypt(
  data: Uint8Array,
  identities: AgeIdentity[],
  field: string,
  passphrases: string[] = [],
): Promise<Uint8Array> {
  let bin = data;
  if (isArmored(data)) {
    try {
      bin = armor.decode(Buffer.from(data).toString("utf8"));
    } catch (e) {
      throw badField(field, `is not a valid armored age file (${(e as Error).message})`);
    }
  }
  const d = new Decrypter();
  for (const i of identities) d.addIdentity(i);
  for (const p of passphrases) d.addPassphrase(p);
  try {
    return await d.decrypt(bin);
  } catch (e) {
    throw explainDecryptError(e, field);
  }
}

export function explainDecryptError(e: unknown, field: string): Error {
  if (e instanceof UserError) return e;
  const msg = String((e as Error)?.message ?? e);
  if (e instanceof StanzaError) return badField(field, `${msg}`, "the file's header was modified; restore it from git");
  if (/no identity matched/.test(msg)) {
    return new UserError(`${field}: none of the given keys can decrypt this file`, {
      field,
      hint: "pass the private key of an operator it is encrypted to with -i/--identity; `secrets list` shows the recipients",
    });
  }
  if (/HMAC/i.test(msg))
    return badField(
      field,
      "the header's MAC does not match: the file was modified or corrupted",
      "restore it from git",
    );
  if (/scrypt/i.test(msg)) return badField(field, `cannot decrypt with the passphrase (${msg})`);
  return badField(field, `is damaged or truncated (${msg})`, "restore it from git, or re-create the secret");
}
