// The host-key decision, made before any credential is sent: a pin, known_hosts, the operator's
// confirmation, or acceptance of a first-seen key. A key that differs from the record never passes.
import type { ServerHostKeyAlgorithm } from "ssh2";
import type { Log } from "../ui/log";
import { addKnownHost, checkKnownHost, fingerprintSha256, readKnownHosts, type HostKey } from "./known-hosts";
import { hostKeyChanged, hostKeyDeclined, hostKeyRejected } from "./ssh-errors";

export interface HostKeyQuestion {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** keys of other types are already known for this host */
  otherTypesKnown: boolean;
}

export interface HostKeyPolicy {
  host: string;
  knownHostsFiles?: string[];
  pinnedHostKey?: string;
  acceptNewHostKey?: boolean;
  confirmHostKey?(q: HostKeyQuestion): Promise<boolean>;
  log?: Log;
}

/** OpenSSH asks for the key types it already knows first; the rest keep ssh2's default order. */
export function hostKeyAlgorithms(known: string[]): ServerHostKeyAlgorithm[] {
  const all: ServerHostKeyAlgorithm[] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
  ];
  const first = all.filter((a) => known.some((k) => k === a || (k === "ssh-rsa" && a.startsWith("rsa-sha2-"))));
  return [...first, ...all.filter((a) => !first.includes(a))];
}

export async function decideHostKey(
  opts: HostKeyPolicy,
  key: HostKey,
  entries: ReturnType<typeof readKnownHosts>,
  port: number,
  where: string,
  pause: <T>(p: Promise<T>) => Promise<T>,
): Promise<void> {
  const fingerprint = fingerprintSha256(key.blob);
  opts.log?.write(`ssh ${where}: host key ${key.type} ${fingerprint}`);
  if (opts.pinnedHostKey) {
    if (fingerprint === opts.pinnedHostKey.replace(/=+$/, "")) return;
    throw hostKeyChanged(where, [opts.pinnedHostKey], fingerprint, "the pinned --host-key");
  }
  const verdict = checkKnownHost(entries, opts.host, port, key);
  if (verdict.status === "known") return;
  if (verdict.status === "revoked")
    throw hostKeyRejected(
      where,
      fingerprint,
      `it is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}`,
      undefined,
      "revoked",
    );
  if (verdict.status === "changed") {
    throw hostKeyChanged(
      where,
      verdict.expected.map((e) => `${fingerprintSha256(e.blob)} (${e.file}:${e.line})`),
      fingerprint,
      "known_hosts",
    );
  }
  const otherTypesKnown = verdict.status === "other-type";
  const remember = () => {
    const file = opts.knownHostsFiles?.[0];
    if (file) addKnownHost(file, opts.host, port, key);
  };
  if (opts.acceptNewHostKey && !otherTypesKnown) {
    remember();
    return;
  }
  if (opts.confirmHostKey) {
    const ok = await pause(
      opts.confirmHostKey({ host: opts.host, port, keyType: key.type, fingerprint, otherTypesKnown }),
    );
    if (!ok) throw hostKeyDeclined(where, fingerprint);
    remember();
    return;
  }
  throw hostKeyRejected(
    where,
    fingerprint,
    otherTypesKnown
      ? "keys of another type are on record for this host, but not this one"
      : "this host is not in known_hosts",
    "compare the fingerprint with the one your provider shows (console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then pass --host-key " +
      fingerprint +
      (otherTypesKnown ? "" : " or --accept-new-host-key"),
  );
}
