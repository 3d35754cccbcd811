// Secret values the tool can make itself, and the secrets each node profile needs. Values go
// straight to encryption: they are never printed, logged or passed in argv.
import { randomBytes, randomInt } from "node:crypto";
import { x25519 } from "@noble/curves/ed25519.js";
import type { Profile } from "../plan/types";

export const GENERATORS = ["wireguard", "password", "hex32"] as const;
export type GeneratorKind = (typeof GENERATORS)[number];

export interface GeneratedSecret {
  /** What goes into the .age file. */
  value: Uint8Array;
  /** A public half worth keeping in keys/ (WireGuard public key), safe to print. */
  publicKey?: string;
}

const PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/**
 * wireguard: a private key as `wg genkey` prints it (32 random bytes, X25519-clamped, base64, newline)
 *            and its public key as `wg pubkey` would print it.
 * password:  32 characters from an unambiguous alphabet (~185 bits), no newline.
 * hex32:     32 random bytes as 64 hex digits, no newline.
 */
export function generateSecret(kind: GeneratorKind): GeneratedSecret {
  if (kind === "wireguard") {
    const priv = new Uint8Array(randomBytes(32));
    priv[0]! &= 248;
    priv[31]! &= 127;
    priv[31]! |= 64;
    const pub = x25519.scalarMultBase(priv);
    const value = new TextEncoder().encode(`${Buffer.from(priv).toString("base64")}\n`);
    priv.fill(0);
    return { value, publicKey: Buffer.from(pub).toString("base64") };
  }
  if (kind === "password") {
    let s = "";
    for (let i = 0; i < 32; i++) s += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
    return { value: new TextEncoder().encode(s) };
  }
  return { value: new TextEncoder().encode(randomBytes(32).toString("hex")) };
}

export interface ProfileSecret {
  name: string;
  generate: GeneratorKind;
  /** What it is for, for the wizard and `secrets list`. */
  description: string;
}

/**
 * The secrets a node profile's modules read (as age.secrets.<name>, at /run/agenix/<name>), so the
 * wizard can make them. The names match the profile templates in flake-templates/.
 */
export function secretsForProfile(profile: Profile, hostname: string | null): ProfileSecret[] {
  switch (profile) {
    case "peer-observer":
      // infra-library's base.nix reads <agenixSecretsDir>/wireguard-private-key-<name>.age (infra.nix)
      return [
        {
          name: `wireguard-private-key-${hostname ?? "node"}`,
          generate: "wireguard",
          description: "WireGuard private key of the node's link to the monitoring host",
        },
      ];
    case "nix-bitcoin":
      // nix-bitcoin generates its RPC passwords ON the node (nix-bitcoin.generateSecrets = true),
      // so they never pass through the flake: nothing to make here.
      return [];
    case "base":
      return [];
  }
}
