// The flake's secrets/ folder in the agenix layout, derived from data the flake already holds:
//   operators = nixnode.json ssh.authorizedKeys (the ed25519/rsa ones: age has no other SSH types)
//   host      = keys/ssh_host_ed25519_key.pub (the pre-generated host key)
//   secrets   = the secrets/*.age files present
// secrets/secrets.nix is re-rendered from these on every change (agenix's CLI reads it for
// `agenix -e/-r`), and secrets/module.nix is a static NixOS module that declares age.secrets for
// every entry of secrets.nix, so the .nix files never have to be parsed by this tool.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { armor } from "age-encryption";
import { UserError, badField } from "../errors";
import { loadConfigFile } from "../plan/config";
import { parseRecipient, isArmored, type AgeRecipient } from "./age";
import { sshTag } from "./age-ssh";
import { HOST_KEY_PUB, readHostPublicKey } from "./host-key";
import { KeyFormatError, parseSshPublicKey, sshFingerprint } from "./ssh-keys";

export const HOST_KEY_SECRET = "host-key";
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface KeyEntry {
  /** The Nix binding name in secrets.nix (operator1, host). */
  binding: string;
  line: string;
  /** SHA256:... for people; the age stanza tag for matching headers. */
  fingerprint: string;
  tag: string;
  recipient: AgeRecipient;
}

export interface SecretsContext {
  flakeDir: string;
  /** nixnode.json hostname, for the host key's comment (null when absent). */
  hostname: string | null;
  operators: KeyEntry[];
  host: KeyEntry | null;
  /** Operator keys that cannot be age recipients (ecdsa, sk-*), for a warning. */
  skipped: string[];
}

/** Validates a secret name given on the command line; strips a trailing .age. */
export function secretName(raw: string, field = "NAME"): string {
  const name = raw.endsWith(".age") ? raw.slice(0, -4) : raw;
  if (!SECRET_NAME.test(name) || name.includes("..")) {
    throw badField(
      field,
      `"${raw}" is not a valid secret name`,
      "use letters, digits, '.', '_' and '-' (e.g. rpc-password), at most 63 characters",
    );
  }
  return name;
}

export function secretPath(flakeDir: string, name: string): string {
  return join(flakeDir, "secrets", `${name}.age`);
}

function keyEntry(line: string, binding: string, field: string): KeyEntry {
  const k = parseSshPublicKey(line);
  return {
    binding,
    line: line.trim(),
    fingerprint: sshFingerprint(k.wire),
    tag: sshTag(k.wire),
    recipient: parseRecipient(line, field),
  };
}

/**
 * Reads who secrets are encrypted to from the flake. nixnode.json goes through the same validated
 * parser as `plan` (a hostname with a newline, a pasted private key... are refused, naming the
 * field). Throws UserError naming --flake or the field.
 */
export async function loadSecretsContext(flakeDir: string): Promise<SecretsContext> {
  const configPath = join(flakeDir, "nixnode.json");
  if (!existsSync(flakeDir))
    throw badField(
      "--flake",
      `${flakeDir} does not exist`,
      "give the node's flake directory (the one with nixnode.json)",
    );
  if (!existsSync(configPath))
    throw badField(
      "--flake",
      `${flakeDir} has no nixnode.json`,
      "give the node's flake directory, made by `nixnode-install plan`",
    );
  const config = await loadConfigFile(configPath, "--flake");
  const hostname = config.hostname ?? null;
  const keys = config.ssh?.authorizedKeys ?? [];
  const operators: KeyEntry[] = [];
  const skipped: string[] = [];
  keys.forEach((line, i) => {
    const type = line.trim().split(/\s+/)[0] ?? "";
    if (type !== "ssh-ed25519" && type !== "ssh-rsa") {
      skipped.push(`ssh.authorizedKeys[${i}] (${type})`);
      return;
    }
    try {
      operators.push(keyEntry(line, `operator${operators.length + 1}`, `ssh.authorizedKeys[${i}]`));
    } catch (e) {
      if (e instanceof KeyFormatError) throw badField(`ssh.authorizedKeys[${i}]`, e.message);
      throw e;
    }
  });
  if (operators.length === 0) {
    throw new UserError("ssh.authorizedKeys: no key can be an age recipient, so no one could decrypt the secrets", {
      field: "ssh.authorizedKeys",
      hint: "add an ssh-ed25519 (or ssh-rsa) operator key to nixnode.json",
      details: skipped.length ? [`not usable with age: ${skipped.join(", ")}`] : [],
    });
  }
  const hostPub = readHostPublicKey(flakeDir);
  const host = hostPub ? keyEntry(hostPub.publicKey, "host", HOST_KEY_PUB) : null;
  return { flakeDir, hostname, operators, host, skipped };
}

/** nixnode.json's hostname (validated like everything in it), without requiring operator keys. */
export async function flakeHostname(flakeDir: string): Promise<string | null> {
  return (await loadConfigFile(join(flakeDir, "nixnode.json"), "--flake")).hostname ?? null;
}

/** The secrets present in the flake (names without .age), host-key included, sorted. */
export function listSecretNames(flakeDir: string): string[] {
  const dir = join(flakeDir, "secrets");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".age"))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Who a secret must be encrypted to: the host key only decrypts service secrets, never itself. */
export function recipientsFor(ctx: SecretsContext, name: string): KeyEntry[] {
  if (name === HOST_KEY_SECRET || !ctx.host) return ctx.operators;
  return [...ctx.operators, ctx.host];
}

/** A Nix string literal (escapes \\, ", ${ and control characters the way Nix reads them). */
const nixString = (s: string) =>
  `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$\{/g, "\\${").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;

/** secrets/secrets.nix, agenix's format: per-file publicKeys, with let bindings. */
export function renderSecretsNix(ctx: SecretsContext, names: string[]): string {
  const lines = [
    "# Which keys each secret is encrypted to, in agenix's format (used by `agenix -e` / `agenix -r`).",
    "# Generated by nixnode-install from nixnode.json (ssh.authorizedKeys) and keys/ssh_host_ed25519_key.pub.",
    "# To add or remove an operator: edit nixnode.json, then run `nixnode-install secrets rekey`.",
    "let",
    ...ctx.operators.map((o) => `  ${o.binding} = ${nixString(o.line)};`),
    ...(ctx.host ? [`  host = ${nixString(ctx.host.line)};`] : []),
    `  operators = [ ${ctx.operators.map((o) => o.binding).join(" ")} ];`,
    "in",
    "{",
    ...names.map(
      (n) =>
        `  ${nixString(`${n}.age`)}.publicKeys = operators${n !== HOST_KEY_SECRET && ctx.host ? " ++ [ host ]" : ""};`,
    ),
    "}",
    "",
  ];
  return lines.join("\n");
}

/**
 * secrets/module.nix: a static NixOS module (needs agenix's module). Every entry of secrets.nix
 * except host-key.age becomes age.secrets.<name>, decrypted at boot with the host key to
 * /run/agenix/<name>. Profiles set owner/mode for their service (age.secrets.<name>.owner).
 */
export const SECRETS_MODULE_NIX = `# Declares every secret listed in ./secrets.nix (except the host key itself) to agenix, so each
# one is decrypted at boot with /etc/ssh/ssh_host_ed25519_key to /run/agenix/<name>.
# Generated by nixnode-install; it reads secrets.nix, so it never needs editing.
{ ... }:
let
  files = builtins.filter (f: f != "host-key.age") (builtins.attrNames (import ./secrets.nix));
  nameOf = f: builtins.substring 0 (builtins.stringLength f - 4) f;
in
{
  age.secrets = builtins.listToAttrs (map (f: {
    name = nameOf f;
    value.file = ./. + "/\${f}";
  }) files);
}
`;

export interface HeaderRecipients {
  /** Stanza types in the file's header: ssh-ed25519, ssh-rsa, X25519, scrypt... */
  types: string[];
  /** ssh-* stanza tags (first 4 bytes of SHA-256 of the key), to match against known keys. */
  sshTags: string[];
}

/** Reads the recipient stanzas from an age header without decrypting anything. */
export function readHeaderRecipients(data: Uint8Array, field: string): HeaderRecipients {
  let bin = data;
  if (isArmored(data)) {
    try {
      bin = armor.decode(Buffer.from(data).toString("utf8"));
    } catch (e) {
      throw badField(field, `is not a valid armored age file (${(e as Error).message})`);
    }
  }
  const text = Buffer.from(bin.subarray(0, Math.min(bin.length, 64 * 1024))).toString("latin1");
  const lines = text.split("\n");
  if (lines[0] !== "age-encryption.org/v1")
    throw badField(field, "is not an age file (no age-encryption.org/v1 header)", "restore it from git");
  const types: string[] = [];
  const sshTags: string[] = [];
  for (const l of lines.slice(1)) {
    if (l.startsWith("---")) return { types, sshTags };
    if (!l.startsWith("-> ")) continue;
    const [type, tag] = l.slice(3).split(" ");
    types.push(type ?? "");
    if ((type === "ssh-ed25519" || type === "ssh-rsa") && tag) sshTags.push(tag);
  }
  throw badField(field, "has a truncated age header", "restore it from git");
}

export interface SecretStatus {
  name: string;
  file: string;
  /** Bindings (operator1, host) the header addresses; "unknown key" for tags no current key has. */
  encryptedTo: string[];
  /** The header's recipients are not exactly those secrets.nix wants: run `secrets rekey`. */
  stale: boolean;
  /** Set when the file cannot be read as an age file (damaged, truncated). */
  problem?: string;
}

export function secretStatus(ctx: SecretsContext, name: string): SecretStatus {
  const file = secretPath(ctx.flakeDir, name);
  const rel = `secrets/${name}.age`;
  let h: HeaderRecipients;
  try {
    h = readHeaderRecipients(readFileSync(file), rel);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { name, file: rel, encryptedTo: [], stale: true, problem: e.message };
  }
  const known = [...ctx.operators, ...(ctx.host ? [ctx.host] : [])];
  const encryptedTo = h.sshTags.map((t) => known.find((k) => k.tag === t)?.binding ?? "unknown key");
  const others = h.types.filter((t) => t !== "ssh-ed25519" && t !== "ssh-rsa").length;
  for (let i = 0; i < others; i++) encryptedTo.push("non-SSH recipient");
  const want = recipientsFor(ctx, name)
    .map((k) => k.binding)
    .sort();
  const stale = others > 0 || JSON.stringify([...encryptedTo].sort()) !== JSON.stringify(want);
  return { name, file: rel, encryptedTo, stale };
}
