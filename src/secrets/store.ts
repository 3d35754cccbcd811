// Reading and writing the flake's secrets: every .age file is encrypted to the recipients
// secrets.nix lists for it, written atomically (src/util/write-atomic), and secrets.nix/module.nix
// are re-rendered after each change. Callers that change a flake hold its lock (flake-lock.ts) so
// that two runs never interleave. Plaintext lives only in memory here.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors";
import type { Profile } from "../plan/types";
import { ageDecrypt, ageEncrypt, type AgeIdentity } from "./age";
import {
  HOST_KEY_SECRET,
  SECRETS_MODULE_NIX,
  flakeHostname,
  listSecretNames,
  loadSecretsContext,
  recipientsFor,
  renderSecretsNix,
  secretPath,
  type SecretsContext,
} from "./agenix";
import { generateSecret, secretsForProfile } from "./generate-secret";
import { ensureHostKey } from "./host-key";
import { stageInFlakeGit } from "../generate/write-flake";
import { writeAtomic } from "../util/write-atomic";
import { withFlakeLock } from "./flake-lock";

/** Re-renders secrets/secrets.nix and secrets/module.nix from the context and the .age files present. */
export function syncSecretsNix(ctx: SecretsContext, extraNames: string[] = []): void {
  const dir = join(ctx.flakeDir, "secrets");
  mkdirSync(dir, { recursive: true });
  const names = [...new Set([...listSecretNames(ctx.flakeDir), ...extraNames])].sort();
  writeAtomic(join(dir, "secrets.nix"), renderSecretsNix(ctx, names));
  writeAtomic(join(dir, "module.nix"), SECRETS_MODULE_NIX);
}

export async function encryptSecret(ctx: SecretsContext, name: string, plaintext: Uint8Array): Promise<Uint8Array> {
  return ageEncrypt(
    plaintext,
    recipientsFor(ctx, name).map((k) => k.recipient),
    { armor: true },
  );
}

/** Encrypts and writes secrets/<name>.age, then updates secrets.nix. */
export async function writeSecret(ctx: SecretsContext, name: string, plaintext: Uint8Array): Promise<string> {
  const data = await encryptSecret(ctx, name, plaintext);
  mkdirSync(join(ctx.flakeDir, "secrets"), { recursive: true });
  const path = secretPath(ctx.flakeDir, name);
  writeAtomic(path, data);
  syncSecretsNix(ctx);
  return path;
}

export async function readSecret(ctx: SecretsContext, name: string, identities: AgeIdentity[]): Promise<Uint8Array> {
  const path = secretPath(ctx.flakeDir, name);
  if (!existsSync(path))
    throw new UserError(`NAME: no secret "${name}" in ${join(ctx.flakeDir, "secrets")}`, {
      field: "NAME",
      hint: "see `nixnode-install secrets list`",
    });
  return ageDecrypt(readFileSync(path), identities, `secrets/${name}.age`);
}

/**
 * Re-encrypts every secret to its current recipients. Decrypts ALL first, so one file that the
 * operator's key cannot open stops the rekey before any file is rewritten.
 */
export async function rekeyAll(ctx: SecretsContext, identities: AgeIdentity[]): Promise<string[]> {
  const names = listSecretNames(ctx.flakeDir);
  const plain = new Map<string, Uint8Array>();
  for (const n of names) plain.set(n, await readSecret(ctx, n, identities));
  const encrypted = new Map<string, Uint8Array>();
  for (const [n, p] of plain) {
    encrypted.set(n, await encryptSecret(ctx, n, p));
    p.fill(0);
  }
  for (const [n, data] of encrypted) writeAtomic(secretPath(ctx.flakeDir, n), data);
  syncSecretsNix(ctx);
  return names;
}

export function isReservedSecret(name: string): boolean {
  return name === HOST_KEY_SECRET;
}

/**
 * Creates the secrets a profile needs that the flake does not have yet (for the wizard and plan),
 * generating the node's host key first when there is none. Needs no private key. Public halves
 * (WireGuard) go to keys/<name>.pub.
 */
export async function ensureProfileSecrets(
  flakeDir: string,
  profile: Profile,
): Promise<{ created: string[]; hostKeyCreated: string | null }> {
  const wanted = secretsForProfile(profile, await flakeHostname(flakeDir));
  if (wanted.every((s) => existsSync(secretPath(flakeDir, s.name)))) return { created: [], hostKeyCreated: null };
  return withFlakeLock(flakeDir, `nixnode-install (${profile} profile secrets)`, async () => {
    const have = new Set(listSecretNames(flakeDir));
    const { ctx, hostKeyCreated } = await secretsContextWithHostKey(flakeDir);
    const created: string[] = [];
    for (const s of wanted) {
      if (have.has(s.name)) continue;
      const g = generateSecret(s.generate);
      await writeSecret(ctx, s.name, g.value);
      g.value.fill(0);
      if (g.publicKey) writePublicHalf(flakeDir, s.name, g.publicKey);
      created.push(s.name);
    }
    return { created, hostKeyCreated };
  });
}

export function writePublicHalf(flakeDir: string, name: string, publicKey: string): string {
  mkdirSync(join(flakeDir, "keys"), { recursive: true });
  const p = join(flakeDir, "keys", `${name}.pub`);
  writeAtomic(p, `${publicKey}\n`);
  return p;
}

/**
 * The secrets context for a change: when the flake has no host key yet, one is generated now
 * (stored encrypted to the operators), so new secrets are encrypted to the node from the start and
 * the install reuses that key. `hostKeyCreated` is its fingerprint when it was just made.
 */
export async function secretsContextWithHostKey(
  flakeDir: string,
): Promise<{ ctx: SecretsContext; hostKeyCreated: string | null }> {
  const first = await loadSecretsContext(flakeDir);
  if (first.host) return { ctx: first, hostKeyCreated: null };
  const r = await ensureHostKey(
    flakeDir,
    first.operators.map((o) => o.line),
    `root@${first.hostname ?? "nixnode"}`,
  );
  return { ctx: await loadSecretsContext(flakeDir), hostKeyCreated: r.created ? r.fingerprint : null };
}

/**
 * After the wizard wrote a flake: generates the secrets its profile declares (secretsForProfile),
 * encrypted to the node's host key (made now, so that the install pins the same one) and to the
 * operators' keys, and stages them in the flake's git. Returns a line for the operator, or null
 * when the profile declares none. Without an ssh-ed25519/ssh-rsa operator key nothing can be
 * encrypted yet: it says how to do it later instead.
 */
export async function generateDeclaredSecrets(
  flakeDir: string,
  profile: Profile,
  operatorKeys: string[],
): Promise<string | null> {
  const wanted = secretsForProfile(profile, await flakeHostname(flakeDir));
  if (!wanted.length) return null;
  const names = wanted.map((s) => s.name).join(", ");
  if (!operatorKeys.some((k) => /^(ssh-ed25519|ssh-rsa) /.test(k.trim()))) {
    return `the ${profile} profile needs ${names}: add an ssh-ed25519 or ssh-rsa operator key, then run \`nixnode-install secrets add NAME --generate KIND --flake ${flakeDir}\``;
  }
  const r = await withFlakeLock(flakeDir, `nixnode-install (${profile} profile secrets)`, async () => {
    const made = await ensureProfileSecrets(flakeDir, profile);
    await stageInFlakeGit(flakeDir, ["secrets", "keys"]);
    return made;
  });
  return r.created.length
    ? `generated ${r.created.join(", ")} for the ${profile} profile, encrypted in secrets/ to the node and its operators`
    : null;
}
