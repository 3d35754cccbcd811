// After the new system answered with its pinned key: known_hosts gets exactly that key for the
// host, and the old machine's entries (plain or hashed) go, so that plain `ssh root@host` works
// without "REMOTE HOST IDENTIFICATION HAS CHANGED" and without trusting anything else.
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeAtomic } from "../util/write-atomic";

/** The host field OpenSSH writes: `host` on port 22, `[host]:port` otherwise (IPv6 without brackets inside). */
export function knownHostName(host: string, port: number): string {
  const h = host.replace(/^\[(.*)\]$/, "$1");
  return port === 22 ? h : `[${h}]:${port}`;
}

function fieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  return field.split(",").includes(name);
}

/** Pure: the file's lines without entries for `name`, plus the pinned key. Markers (@cert-authority, @revoked) are kept. */
export function replaceKnownHost(text: string, name: string, publicKey: string): string {
  const [type, blob] = publicKey.trim().split(/\s+/);
  const kept = text.split("\n").filter((line) => {
    const t = line.trim();
    if (!t || t.startsWith("#") || t.startsWith("@")) return true;
    return !fieldMatches(t.split(/\s+/)[0]!, name);
  });
  while (kept.length && kept[kept.length - 1] === "") kept.pop();
  kept.push(`${name} ${type} ${blob}`);
  return kept.join("\n") + "\n";
}

export function pinKnownHost(file: string, host: string, port: number, publicKey: string): void {
  const before = existsSync(file) ? readFileSync(file, "utf8") : "";
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeAtomic(file, replaceKnownHost(before, knownHostName(host, port), publicKey), { mode: 0o600 });
}
