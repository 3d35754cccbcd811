// The node's SSH host identity, made on the operator's side before the install: an ed25519 key in
// OpenSSH format, kept in the flake only as secrets/host-key.age (encrypted to the operators) plus
// keys/ssh_host_ed25519_key.pub, so a reinstall keeps the same fingerprint. For the install it is
// decrypted into a private temp dir laid out for nixos-anywhere --extra-files, removed afterwards.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { OperationError, UserError, badField } from "../errors";
import { shellQuote } from "../util/shell-quote";
import { flakeLockBusy, withFlakeLock } from "./flake-lock";
import { writeAtomic } from "../util/write-atomic";
import { ageDecrypt, ageEncrypt, parseRecipient, type AgeIdentity } from "./age";
import {
  KeyFormatError,
  ed25519PublicWire,
  encodeWire,
  formatSshPublicKey,
  parseOpensshContainer,
  parseSshPublicKey,
  publicKeyFromWire,
  sshFingerprint,
} from "./ssh-keys";

export interface HostKey {
  /** OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----), unencrypted: keep it in memory only. */
  privateKey: string;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
  /** SHA256:... as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

export const HOST_KEY_AGE = "secrets/host-key.age";
export const HOST_KEY_PUB = "keys/ssh_host_ed25519_key.pub";

/** Where one host of a fleet flake keeps its host key (`fleet plan` writes them, the install reads them). */
export function fleetHostKeyPaths(hostName: string): { age: string; pub: string; secretsDir: string } {
  return {
    age: `secrets/${hostName}/host-key.age`,
    pub: `keys/${hostName}/ssh_host_ed25519_key.pub`,
    secretsDir: `secrets/${hostName}`,
  };
}

/**
 * The ONE choice between the two layouts: a fleet flake keeps each host's key under its own name
 * (secrets/<host>/, keys/<host>/), a single-node flake at secrets/host-key.age. A host whose own
 * folders exist uses them; every other flake (and no host name) keeps the single-node paths.
 */
export function hostKeyFiles(flakeDir: string, hostName?: string): { age: string; pub: string; secretsDir: string } {
  if (hostName) {
    const fleet = fleetHostKeyPaths(hostName);
    if (existsSync(join(flakeDir, fleet.secretsDir)) || existsSync(join(flakeDir, "keys", hostName))) return fleet;
  }
  return { age: HOST_KEY_AGE, pub: HOST_KEY_PUB, secretsDir: "secrets" };
}

/** Serialises an ed25519 key as openssh-key-v1, unencrypted, the way ssh-keygen writes it. */
export function opensshPrivateKey(seed: Uint8Array, pub: Uint8Array, comment: string): string {
  const check = randomBytes(4);
  const keyType = Buffer.from(encodeWire(["ssh-ed25519"]));
  const section = Buffer.concat([
    check,
    check,
    keyType,
    Buffer.from(encodeWire([pub, new Uint8Array([...seed, ...pub]), comment])),
  ]);
  const pad = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    Buffer.from(encodeWire(["none", "none", new Uint8Array(0)])),
    Buffer.from([0, 0, 0, 1]),
    Buffer.from(encodeWire([ed25519PublicWire(pub), Buffer.concat([section, pad])])),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/**
 * The .pub comment ends up in keys/ssh_host_ed25519_key.pub, which `age -R` and authorized_keys-style
 * readers take line by line: a newline or space in it would add a key or break the line.
 */
export function checkKeyComment(comment: string, field = "hostname"): string {
  if (!/^[\x21-\x7e]{1,255}$/.test(comment))
    throw badField(
      field,
      "would put spaces, control characters or a newline into the host key's comment",
      "use a host name of letters, digits and '-' (e.g. node1)",
    );
  return comment;
}

export function generateHostKey(comment = "root@nixnode"): HostKey {
  checkKeyComment(comment);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const seed = new Uint8Array(Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url"));
  const pub = new Uint8Array(Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"));
  const key = publicKeyFromWire(ed25519PublicWire(pub), comment);
  return {
    privateKey: opensshPrivateKey(seed, pub, comment),
    publicKey: formatSshPublicKey(key),
    fingerprint: sshFingerprint(key.wire),
  };
}

/**
 * Writes secrets/host-key.age (armored, encrypted to `recipients`: operator SSH public keys or
 * age1... recipients) and keys/ssh_host_ed25519_key.pub. Validates every recipient before writing.
 */
export async function writeEncryptedHostKey(
  flakeDir: string,
  key: HostKey,
  recipients: string[],
  hostName?: string,
): Promise<{ agePath: string; pubPath: string }> {
  if (recipients.length === 0) {
    throw new UserError("no operator keys to encrypt the host key to", {
      field: "ssh.authorizedKeys",
      hint: "add at least one operator public key",
    });
  }
  const parsed = recipients.map((r, i) => parseRecipient(r, `ssh.authorizedKeys[${i}]`));
  refuseToOrphanSecrets(flakeDir, key, hostName);
  const data = await ageEncrypt(key.privateKey, parsed, { armor: true });
  const files = hostKeyFiles(flakeDir, hostName);
  const agePath = join(flakeDir, files.age);
  const pubPath = join(flakeDir, files.pub);
  mkdirSync(dirname(agePath), { recursive: true });
  mkdirSync(dirname(pubPath), { recursive: true });
  // .age first: a reader between the two renames sees no host key yet, never a mismatched pair
  writeAtomic(agePath, data);
  writeAtomic(pubPath, `${key.publicKey}\n`);
  return { agePath, pubPath };
}

/**
 * Replacing the host key would leave every service secret encrypted to the OLD key: the node could
 * not decrypt them at boot. Refuse, and say how to keep the key instead.
 */
function serviceSecrets(flakeDir: string, hostName?: string): string[] {
  const dir = join(flakeDir, hostKeyFiles(flakeDir, hostName).secretsDir);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".age") && f !== "host-key.age") : [];
}

function refuseToOrphanSecrets(flakeDir: string, key: HostKey, hostName?: string): void {
  const existing = readHostPublicKey(flakeDir, hostName);
  if (!existing) {
    refuseWithoutPublicKey(flakeDir, hostName);
    return;
  }
  if (existing.fingerprint === key.fingerprint) return;
  const secrets = serviceSecrets(flakeDir, hostName);
  if (secrets.length === 0) return;
  throw new UserError(
    `the flake already has a host key (${existing.fingerprint}) and ${secrets.length} secret(s) encrypted to it; a new host key would lock the node out of them`,
    {
      details: [`secrets: ${secrets.join(", ")}`],
      hint: "reuse the flake's host key (decrypt secrets/host-key.age with an operator key), or rekey the secrets after replacing it",
    },
  );
}

/**
 * The early check, before the flake's lock is taken: a run that holds the lock may be between
 * writing host-key.age and its .pub, which is not a lost key. Then the check is left to the same
 * check under the lock; otherwise it is made again, in case that run finished meanwhile.
 */
export function refuseWithoutPublicKeyUnlessBusy(flakeDir: string): void {
  try {
    refuseWithoutPublicKey(flakeDir);
  } catch (e) {
    if (flakeLockBusy(flakeDir)) return;
    refuseWithoutPublicKey(flakeDir);
  }
}

/**
 * keys/ssh_host_ed25519_key.pub is missing but the flake already has a host key (secrets/host-key.age)
 * or secrets encrypted to one: making a new key now would replace the node's identity and orphan
 * every secret. Refuse, and give the exact commands that bring the .pub back.
 */
export function refuseWithoutPublicKey(flakeDir: string, hostName?: string): void {
  const { age: HOST_KEY_AGE, pub: HOST_KEY_PUB } = hostKeyFiles(flakeDir, hostName);
  if (existsSync(join(flakeDir, HOST_KEY_PUB))) return;
  const hasAge = existsSync(join(flakeDir, HOST_KEY_AGE));
  const secrets = serviceSecrets(flakeDir, hostName);
  if (!hasAge && secrets.length === 0) return;
  const dir = shellQuote(flakeDir);
  if (hasAge)
    throw new UserError(
      `${HOST_KEY_PUB} is missing, but ${HOST_KEY_AGE} holds the node's host key; a new host key would replace the node's identity${secrets.length ? ` and lock it out of ${secrets.length} secret(s)` : ""}`,
      {
        field: HOST_KEY_PUB,
        details: [
          "nothing was changed; restore the public key with either command:",
          `  git -C ${dir} checkout -- ${HOST_KEY_PUB}`,
          `  nixnode-install secrets rekey --flake ${dir} -i ~/.ssh/id_ed25519   (recreates it from ${HOST_KEY_AGE} with your key)`,
        ],
        hint: "then run this command again",
      },
    );
  throw new UserError(
    `${HOST_KEY_PUB} and ${HOST_KEY_AGE} are missing, but ${secrets.length} secret(s) are encrypted to a host key; a new one would lock the node out of them`,
    {
      field: HOST_KEY_PUB,
      details: [`secrets: ${secrets.join(", ")}`, `restore both files: git -C ${dir} checkout -- keys secrets`],
      hint: "restore the host key from git (or a backup of the flake), then run this command again",
    },
  );
}

/**
 * `secrets rekey` with the operator's key: when the .pub is gone but secrets/host-key.age is there,
 * write the .pub back from the decrypted key (checked to be an ed25519 OpenSSH key). Returns its
 * fingerprint, or null when nothing was missing.
 */
export async function restoreHostPublicKey(flakeDir: string, identities: AgeIdentity[]): Promise<string | null> {
  if (existsSync(join(flakeDir, HOST_KEY_PUB)) || !existsSync(join(flakeDir, HOST_KEY_AGE))) return null;
  const key = await decryptHostKey(flakeDir, identities);
  mkdirSync(join(flakeDir, "keys"), { recursive: true });
  writeAtomic(join(flakeDir, HOST_KEY_PUB), `${key.publicKey}\n`);
  return key.fingerprint;
}

/** Reads keys/ssh_host_ed25519_key.pub (null when the flake has no host key yet). */
export function readHostPublicKey(
  flakeDir: string,
  hostName?: string,
): { publicKey: string; fingerprint: string } | null {
  const { pub: HOST_KEY_PUB } = hostKeyFiles(flakeDir, hostName);
  const p = join(flakeDir, HOST_KEY_PUB);
  if (!existsSync(p)) return null;
  const line = readFileSync(p, "utf8").trim();
  try {
    const k = parseSshPublicKey(line);
    return { publicKey: line, fingerprint: sshFingerprint(k.wire) };
  } catch (e) {
    if (e instanceof KeyFormatError)
      throw new UserError(`${HOST_KEY_PUB}: ${e.message}`, { field: HOST_KEY_PUB, hint: "restore it from git" });
    throw e;
  }
}

export interface SecretTempDir {
  path: string;
  /** Removes the directory and everything in it; safe to call twice. */
  cleanup(): void;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * A 0700 temp dir for plaintext secrets, removed by cleanup(), on process exit, and on signals.
 * On a signal nobody else handles, the signal is re-raised after cleanup so the process still ends.
 */
export function createSecretTempDir(prefix = "nixnode-secret-"): SecretTempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(path, 0o700);
  let done = false;
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  const cleanup = () => {
    if (done) return;
    done = true;
    rmSync(path, { recursive: true, force: true });
    process.off("exit", cleanup);
    for (const s of SIGNALS) process.off(s, onSignal);
  };
  process.on("exit", cleanup);
  for (const s of SIGNALS) process.once(s, onSignal);
  return { path, cleanup };
}

export interface DecryptedHostKey {
  /** Pass this to nixos-anywhere --extra-files: it holds etc/ssh/ssh_host_ed25519_key{,.pub}. */
  extraFilesDir: string;
  privateKeyPath: string;
  publicKeyPath: string;
  fingerprint: string;
  publicKey: string;
  cleanup(): void;
}

/** Decrypts secrets/host-key.age in memory and checks it against keys/ssh_host_ed25519_key.pub. */
export async function decryptHostKey(flakeDir: string, identities: AgeIdentity[], hostName?: string): Promise<HostKey> {
  const { age: HOST_KEY_AGE, pub: HOST_KEY_PUB } = hostKeyFiles(flakeDir, hostName);
  const agePath = join(flakeDir, HOST_KEY_AGE);
  let data: Buffer;
  try {
    data = readFileSync(agePath);
  } catch {
    throw new UserError(`${HOST_KEY_AGE}: not found in ${flakeDir}`, {
      field: HOST_KEY_AGE,
      hint: "generate the flake first (nixnode-install plan), or give --flake the right directory",
    });
  }
  const plain = Buffer.from(await ageDecrypt(data, identities, HOST_KEY_AGE)).toString("utf8");
  let container;
  let comment = "";
  try {
    container = parseOpensshContainer(plain);
    comment = container.open().publicKey.comment;
  } catch (e) {
    throw new OperationError(
      `${HOST_KEY_AGE}: decrypts, but not to an unencrypted OpenSSH ed25519 key (${(e as Error).message})`,
    );
  }
  const pub = container.publicKey;
  if (pub.type !== "ssh-ed25519")
    throw new OperationError(`${HOST_KEY_AGE}: holds a ${pub.type} key; the host key must be ssh-ed25519`);
  const fingerprint = sshFingerprint(pub.wire);
  const recorded = readHostPublicKey(flakeDir, hostName);
  if (recorded && recorded.fingerprint !== fingerprint) {
    throw new OperationError(`${HOST_KEY_AGE} and ${HOST_KEY_PUB} disagree`, {
      details: [`encrypted key: ${fingerprint}`, `public key file: ${recorded.fingerprint}`],
      hint: "restore both files from git; never pin a fingerprint you cannot explain",
    });
  }
  // anyone can encrypt a key to the operators: a comment that could break the .pub line is dropped
  const safeComment = /^[\x21-\x7e]{1,255}$/.test(comment) ? comment : "";
  return {
    privateKey: plain,
    publicKey: recorded?.publicKey ?? formatSshPublicKey({ ...pub, comment: safeComment }),
    fingerprint,
  };
}

/**
 * Decrypts secrets/host-key.age with the operator's identities into `<tmpDir>/extra-files/etc/ssh/`.
 * The extra-files root and etc/ssh are 0755 (nixos-anywhere copies the tree onto the new root, so
 * their modes become those of / and /etc); the private key is 0600 and tmpDir itself 0700.
 * Checks that the decrypted key matches keys/ssh_host_ed25519_key.pub.
 */
export async function decryptHostKeyInto(
  flakeDir: string,
  identities: AgeIdentity[],
  tmpDir: string,
): Promise<DecryptedHostKey> {
  const { privateKey: plain, publicKey, fingerprint } = await decryptHostKey(flakeDir, identities);
  chmodSync(tmpDir, 0o700);
  const extraFilesDir = join(tmpDir, "extra-files");
  const sshDir = join(extraFilesDir, "etc", "ssh");
  mkdirSync(sshDir, { recursive: true, mode: 0o755 });
  for (const d of [extraFilesDir, join(extraFilesDir, "etc"), sshDir]) chmodSync(d, 0o755);
  const privateKeyPath = join(sshDir, "ssh_host_ed25519_key");
  const publicKeyPath = `${privateKeyPath}.pub`;
  writeFileSync(privateKeyPath, plain, { mode: 0o600 });
  chmodSync(privateKeyPath, 0o600);
  writeFileSync(publicKeyPath, `${publicKey}\n`, { mode: 0o644 });
  return {
    extraFilesDir,
    privateKeyPath,
    publicKeyPath,
    fingerprint,
    publicKey,
    cleanup: () => rmSync(extraFilesDir, { recursive: true, force: true }),
  };
}

/**
 * Reads the host key already stored in the flake (secrets/host-key.age, decrypted with an
 * operator's identity), so a reinstall keeps the node's identity and the secrets encrypted to it.
 * Returns null when the flake has no host key yet.
 */
export async function loadHostKey(flakeDir: string, identities: AgeIdentity[]): Promise<HostKey | null> {
  if (!existsSync(join(flakeDir, HOST_KEY_AGE))) return null;
  return decryptHostKey(flakeDir, identities);
}

/**
 * Makes sure the flake has a host key before secrets are encrypted, so they are encrypted to it
 * from the start: generates one (stored encrypted to `operators`) when keys/ssh_host_ed25519_key.pub
 * is missing. Needs no private key. Returns the fingerprint and whether it was just created.
 */
export async function ensureHostKey(
  flakeDir: string,
  operators: string[],
  comment: string,
): Promise<{ fingerprint: string; created: boolean }> {
  const have = readHostPublicKey(flakeDir);
  if (have) return { fingerprint: have.fingerprint, created: false };
  refuseWithoutPublicKey(flakeDir);
  const key = generateHostKey(comment);
  await writeEncryptedHostKey(flakeDir, key, operators);
  return { fingerprint: key.fingerprint, created: true };
}

/**
 * For the install: the flake's host key if it has one (decrypted with the operator's identities,
 * asked for only then), else a new one stored encrypted to `operators`. Reusing it keeps the
 * node's fingerprint across reinstalls and keeps secrets already encrypted to it readable.
 */
export async function obtainHostKey(
  flakeDir: string,
  opts: {
    operators: string[];
    comment: string;
    identities: () => AgeIdentity[] | Promise<AgeIdentity[]>;
    /** The flake's host: one of a fleet keeps its key under secrets/<host>/ (hostKeyFiles). */
    hostName?: string;
  },
): Promise<{ key: HostKey; created: boolean }> {
  const age = join(flakeDir, hostKeyFiles(flakeDir, opts.hostName).age);
  if (existsSync(age))
    return { key: await decryptHostKey(flakeDir, await opts.identities(), opts.hostName), created: false };
  return withFlakeLock(flakeDir, "nixnode-install install (host key)", async () => {
    // another run may have made it while we waited for the lock
    if (existsSync(age))
      return { key: await decryptHostKey(flakeDir, await opts.identities(), opts.hostName), created: false };
    const key = generateHostKey(opts.comment);
    await writeEncryptedHostKey(flakeDir, key, opts.operators, opts.hostName);
    return { key, created: true };
  });
}
