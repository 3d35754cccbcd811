// Each fleet host's keys, made at plan time and kept forever after: the SSH host key (encrypted to
// the operators, so the install can put it on the machine and everyone can pin it before the first
// login) and the WireGuard key (encrypted to that host key and the operators). A key that exists
// is never made again: adding a host changes no other host's keys.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors";
import { ageEncrypt, parseRecipient } from "../secrets/age";
import { fleetHostKeyPaths, generateHostKey } from "../secrets/host-key";
import { generateSecret, type GeneratorKind } from "../secrets/generate-secret";
import { parseSshPublicKey, sshFingerprint } from "../secrets/ssh-keys";

export interface PendingFile {
  path: string;
  data: string | Uint8Array;
}

export interface HostKeys {
  sshPublicKey: string;
  sshFingerprint: string;
  wireguardPublicKey: string;
  /** Files to write (only for keys made in this run). */
  writes: PendingFile[];
}

export const hostKeyPaths = (name: string) => ({
  // the install reads the host key from the same paths: one definition (src/secrets/host-key)
  sshAge: fleetHostKeyPaths(name).age,
  sshPub: fleetHostKeyPaths(name).pub,
  wgAge: `secrets/${name}/wireguard-fleet.age`,
  wgPub: `keys/${name}/wireguard-fleet.pub`,
});

/**
 * Both files of a key pair, or null when neither exists. One without the other is refused: making
 * a new pair would orphan what was encrypted to the old key (the WireGuard key is encrypted to the
 * host key), and keeping half of it is impossible.
 */
function readPair(dir: string, name: string, paths: [string, string], what: string): string[] | null {
  const present = paths.map((p) => existsSync(join(dir, p)));
  if (present.every((x) => !x)) return null;
  if (present.every((x) => x)) return paths.map((p) => readFileSync(join(dir, p), "utf8"));
  const missing = paths[present.indexOf(false)]!;
  const other = paths[present.indexOf(true)]!;
  throw new UserError(`hosts.${name}: ${missing} is missing but ${other} exists`, {
    field: `hosts.${name}`,
    hint: `restore ${missing} from git (git checkout -- ${missing}); to make a new ${what} on purpose, remove ${other} too (docs/fleet.md)`,
  });
}

async function encrypt(value: Uint8Array | string, recipients: string[]): Promise<Uint8Array> {
  return ageEncrypt(
    value,
    recipients.map((r, i) => parseRecipient(r, `recipient ${i + 1}`)),
    { armor: true },
  );
}

/** The host's keys: read from `dir` when present, made (in memory, not yet written) otherwise. */
export async function hostKeys(dir: string | null, name: string, operators: string[]): Promise<HostKeys> {
  const p = hostKeyPaths(name);
  const writes: PendingFile[] = [];
  let sshPub: string;
  const haveSsh = dir ? readPair(dir, name, [p.sshAge, p.sshPub], "SSH host key") : null;
  if (haveSsh) sshPub = haveSsh[1]!.trim();
  else {
    const key = generateHostKey(`root@${name}`);
    writes.push(
      { path: p.sshAge, data: await encrypt(key.privateKey, operators) },
      { path: p.sshPub, data: `${key.publicKey}\n` },
    );
    sshPub = key.publicKey;
  }
  let wgPub: string;
  const haveWg = dir ? readPair(dir, name, [p.wgAge, p.wgPub], "WireGuard key") : null;
  if (haveWg) wgPub = haveWg[1]!.trim();
  else {
    const wg = generateSecret("wireguard");
    writes.push(
      { path: p.wgAge, data: await encrypt(wg.value, [sshPub, ...operators]) },
      { path: p.wgPub, data: `${wg.publicKey}\n` },
    );
    wg.value.fill(0);
    wgPub = wg.publicKey!;
  }
  return {
    sshPublicKey: sshPub,
    sshFingerprint: sshFingerprint(parseSshPublicKey(sshPub).wire),
    wireguardPublicKey: wgPub,
    writes,
  };
}

/** A host secret (Grafana's keys on the collector), kept when it exists, else made and encrypted to the host and operators. */
export async function hostSecret(
  dir: string | null,
  name: string,
  secret: string,
  kind: GeneratorKind,
  recipients: string[],
): Promise<PendingFile | null> {
  const path = `secrets/${name}/${secret}.age`;
  if (dir && existsSync(join(dir, path))) return null;
  const s = generateSecret(kind);
  const data = await encrypt(s.value, recipients);
  s.value.fill(0);
  return { path, data };
}
