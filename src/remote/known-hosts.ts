// OpenSSH known_hosts: plain and hashed (|1|salt|hash) host fields, [host]:port for other ports,
// wildcards and negation, @revoked; plus the SHA256 fingerprint OpenSSH prints.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { matchHostPatterns } from "./ssh-config";

export interface HostKey {
  /** the key's algorithm name as in the key blob: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 ... */
  type: string;
  /** the public key blob (SSH wire format) */
  blob: Buffer;
}

export interface KnownHostEntry {
  marker?: "@revoked" | "@cert-authority";
  /** the host field as written (comma-separated patterns, or a |1|salt|hash) */
  hosts: string;
  type: string;
  blob: Buffer;
  file: string;
  line: number;
}

export type KnownHostVerdict =
  | { status: "known"; entry: KnownHostEntry }
  | { status: "changed"; expected: KnownHostEntry[] }
  | { status: "revoked"; entry: KnownHostEntry }
  /** keys of other types are known for the host, not this one */
  | { status: "other-type"; known: KnownHostEntry[] }
  | { status: "unknown" };

/** `SHA256:<base64 without padding>` exactly as `ssh-keygen -l` prints it. */
export function fingerprintSha256(blob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/** The algorithm name at the start of a key blob (string length + name). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return "unknown";
  const n = blob.readUInt32BE(0);
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString("latin1") : "unknown";
}

/** The name known_hosts uses for host:port: `host` for 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string, file = "known_hosts"): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const parts = line.split(/\s+/);
    let marker: KnownHostEntry["marker"];
    if (parts[0] === "@revoked" || parts[0] === "@cert-authority") marker = parts.shift() as KnownHostEntry["marker"];
    else if (parts[0]?.startsWith("@")) return; // an unknown marker: OpenSSH ignores the line too
    const [hosts, type, key] = parts;
    if (!hosts || !type || !key || !/^[A-Za-z0-9+/]+=*$/.test(key)) return;
    entries.push({ marker, hosts, type, blob: Buffer.from(key, "base64"), file, line: i + 1 });
  });
  return entries;
}

function hostFieldMatches(hosts: string, names: string[]): boolean {
  if (hosts.startsWith("|1|")) {
    const [, , salt, hash] = hosts.split("|");
    if (!salt || !hash) return false;
    const key = Buffer.from(salt, "base64");
    return names.some((n) => createHmac("sha1", key).update(n).digest("base64") === hash);
  }
  return names.some((n) => matchHostPatterns(n, hosts.split(",")));
}

/** Key types that share a known_hosts key type (rsa-sha2-* are signatures of an ssh-rsa key). */
function sameKeyType(a: string, b: string): boolean {
  const norm = (t: string) => (t.startsWith("rsa-sha2-") ? "ssh-rsa" : t);
  return norm(a) === norm(b);
}

export function checkKnownHost(entries: KnownHostEntry[], host: string, port: number, key: HostKey): KnownHostVerdict {
  const names = [knownHostsName(host, port)];
  const mine = entries.filter((e) => e.marker !== "@cert-authority" && hostFieldMatches(e.hosts, names));
  const revoked = entries.find((e) => e.marker === "@revoked" && e.blob.equals(key.blob));
  if (revoked) return { status: "revoked", entry: revoked };
  const plain = mine.filter((e) => e.marker === undefined);
  const hit = plain.find((e) => e.blob.equals(key.blob));
  if (hit) return { status: "known", entry: hit };
  const sameType = plain.filter((e) => sameKeyType(e.type, key.type));
  if (sameType.length > 0) return { status: "changed", expected: sameType };
  if (plain.length > 0) return { status: "other-type", known: plain };
  return { status: "unknown" };
}

export function readKnownHosts(files: string[]): KnownHostEntry[] {
  return files.flatMap((f) => (existsSync(f) ? parseKnownHosts(readFileSync(f, "utf8"), f) : []));
}

/** Types known for host:port, to ask the server for those first (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const names = [knownHostsName(host, port)];
  return [
    ...new Set(entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, names)).map((e) => e.type)),
  ];
}

/** "ssh-ed25519 AAAA... comment" (a .pub file or authorized_keys line) -> HostKey. */
export function parsePublicKeyLine(line: string): HostKey {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64))
    throw new Error(`not an OpenSSH public key line: "${line.slice(0, 40)}"`);
  const blob = Buffer.from(b64, "base64");
  if (keyTypeOf(blob) !== type) throw new Error(`public key line: the key inside is ${keyTypeOf(blob)}, not ${type}`);
  return { type, blob };
}

/** Appends host:port's key to a known_hosts file (created 0600 in a 0700 folder if missing). */
export function addKnownHost(
  file: string,
  host: string,
  port: number,
  keyOrLine: HostKey | string,
  opts: { hash?: boolean } = {},
): void {
  const key = typeof keyOrLine === "string" ? parsePublicKeyLine(keyOrLine) : keyOrLine;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const name = knownHostsName(host, port);
  let field = name;
  if (opts.hash) {
    const salt = randomBytes(20);
    field = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
  }
  const existing = existsSync(file) ? readFileSync(file, "utf8") : "";
  const sep = existing === "" || existing.endsWith("\n") ? "" : "\n";
  appendFileSync(file, `${sep}${field} ${key.type} ${key.blob.toString("base64")}\n`, { mode: 0o600 });
}
