// The install's use of hosts/<host>/host.json (read and written through src/flake/host-file), and staging the pre-generated host key
// as nixos-anywhere extra files in a private temp folder that is removed when the run ends.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "../errors";
import { hostFileOf, hostJsonPath, locateHostFile, readHostFileAt, writeHostFile } from "../flake/host-file";
import type { HostData } from "../plan/types";
import type { AgeIdentity } from "../secrets/age";
import {
  createSecretTempDir,
  generateHostKey,
  hostKeyFiles,
  obtainHostKey,
  type HostKey,
  type SecretTempDir,
} from "../secrets/host-key";
import { writeAtomic } from "../util/write-atomic";

/** @deprecated import from src/flake/host-file */
export { hostJsonPath };

/**
 * The one host of a generated flake: nixnode.json's hostname, else the only folder under hosts/.
 * @deprecated use locateHostFile / readHostFile from src/flake/host-file (they also validate).
 */
export function findFlakeHost(flakeDir: string, field = "--flake"): string {
  return locateHostFile(flakeDir, { field }).hostname;
}

/**
 * host.json, every field validated (exit 2 naming `hosts/<host>/host.json: <field>`).
 * @deprecated use readHostFile from src/flake/host-file.
 */
export function readHostData(flakeDir: string, hostName: string): HostData {
  return readHostFileAt(hostFileOf(flakeDir, hostName)).host;
}

/** @deprecated use writeHostFile from src/flake/host-file. */
export function writeHostData(flakeDir: string, hostName: string, host: HostData): void {
  writeHostFile(hostFileOf(flakeDir, hostName), host);
}

export interface StagedHostKey {
  key: HostKey;
  /** --extra-files root: etc/ssh/ssh_host_ed25519_key (0600) + .pub */
  extraFilesDir: string;
  temp: SecretTempDir;
  /** False when no operator key could be an age recipient: the private key then lives only for this run. */
  storedEncrypted: boolean;
  /** True when the flake already held the key (hostKeyFiles: secrets/host-key.age, or secrets/<host>/ in a fleet). */
  reused: boolean;
}

/**
 * The new system's host key, staged in a 0700 temp dir for --extra-files and pinned in host.json.
 * A flake that already holds one (secrets/host-key.age) keeps it: decrypted with the operator's
 * identities (asked for only then), so a reinstall keeps the fingerprint and every secret encrypted
 * to the node stays readable. Otherwise it is generated here and stored encrypted to the operators'
 * keys.
 */
export async function prepareHostKey(
  flakeDir: string,
  hostName: string,
  host: HostData,
  identities: () => AgeIdentity[] | Promise<AgeIdentity[]> = () => [],
): Promise<{ staged: StagedHostKey; host: HostData }> {
  const recipients = host.ssh.authorizedKeys.filter((k) => /^(ssh-ed25519|ssh-rsa) /.test(k.trim()));
  let key: HostKey;
  let reused = false;
  let storedEncrypted = true;
  const files = hostKeyFiles(flakeDir, hostName);
  if (recipients.length || existsSync(join(flakeDir, files.age))) {
    const got = await obtainHostKey(flakeDir, {
      operators: recipients,
      comment: `root@${hostName}`,
      identities,
      hostName,
    });
    key = got.key;
    reused = !got.created;
  } else {
    key = generateHostKey(`root@${hostName}`);
    storedEncrypted = false;
    mkdirSync(dirname(join(flakeDir, files.pub)), { recursive: true });
    writeAtomic(join(flakeDir, files.pub), `${key.publicKey}\n`);
  }
  const updated: HostData = { ...host, ssh: { ...host.ssh, hostKeyFingerprint: key.fingerprint } };
  writeHostData(flakeDir, hostName, updated);
  const temp = createSecretTempDir("nixnode-extra-files-");
  const extraFilesDir = join(temp.path, "extra-files");
  const sshDir = join(extraFilesDir, "etc", "ssh");
  mkdirSync(sshDir, { recursive: true, mode: 0o755 });
  writeAtomic(join(sshDir, "ssh_host_ed25519_key"), key.privateKey, { mode: 0o600 });
  writeAtomic(join(sshDir, "ssh_host_ed25519_key.pub"), `${key.publicKey}\n`, { mode: 0o644 });
  return { staged: { key, extraFilesDir, temp, storedEncrypted, reused }, host: updated };
}

/** The key line without its comment: "ssh-ed25519 AAAA...". */
export function keyIdentity(line: string): string {
  const parts = line.trim().split(/\s+/);
  const i = parts.findIndex((p) => /^(ssh-|ecdsa-|sk-)/.test(p));
  return i < 0 ? line.trim() : `${parts[i]} ${parts[i + 1] ?? ""}`;
}

/**
 * nixos-anywhere #294: an install that authorises no key the operator actually holds locks them out.
 * Refuses unless host.json authorises at least one of the keys the operator holds here.
 */
export function refuseWithoutOperatorKey(host: HostData, operatorKeys: string[], hostName: string): void {
  const field = "ssh.authorizedKeys";
  const authorised = host.ssh.authorizedKeys.map(keyIdentity).filter((k) => /^\S+ [A-Za-z0-9+/=]{40,}$/.test(k));
  if (authorised.length === 0) {
    throw new UserError(
      `${field}: no operator key would be authorised on ${hostName}; after the install nobody could log in`,
      {
        field,
        hint: "add your public key (e.g. the line in ~/.ssh/id_ed25519.pub) to ssh.authorizedKeys in nixnode.json and run again",
      },
    );
  }
  // The new system has no root password (nixos-install --no-root-passwd): only a key gets in.
  const mine = new Set(operatorKeys.map(keyIdentity));
  if (!authorised.some((k) => mine.has(k))) {
    throw new UserError(
      `${field}: none of the keys you log in with is authorised on ${hostName}; after the install you would be locked out`,
      {
        field,
        details: [
          mine.size
            ? `your keys: ${[...mine].map((k) => k.slice(0, 40) + "…").join(", ")}`
            : "no SSH key was found on this machine (agent, -i, ~/.ssh/id_*.pub)",
        ],
        hint: "add one of your public keys to ssh.authorizedKeys, or log in with a key that is listed (-i FILE)",
      },
    );
  }
}
