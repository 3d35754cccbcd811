// Private key files (-i, IdentityFile): read, and decrypt with a passphrase asked through the
// injected callback. The passphrase never leaves this process (no argv, no log).
import { readFileSync } from "node:fs";
import { utils } from "ssh2";
import { UserError } from "../errors";

export interface LoadedIdentity {
  data: Buffer;
  passphrase?: string;
}

const MAX_PASSPHRASE_TRIES = 3;

/**
 * Before the first packet: is this a private key ssh can use (an encrypted one counts; its
 * passphrase is asked when it is used)? Never echoes the file's content.
 */
export function checkPrivateKeyFile(file: string): void {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `--identity: cannot read ${file} (${code === "ENOENT" ? "no such file" : (code ?? String(e))})`,
      {
        field: "--identity",
        hint: "give the path of your PRIVATE key file, e.g. -i ~/.ssh/id_ed25519",
      },
    );
  }
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) {
    if (/passphrase/i.test(parsed.message)) return;
    throw new UserError(`--identity: ${file} is not a private key ssh can use`, {
      field: "--identity",
      hint: "OpenSSH, PEM (RSA/ECDSA) and PuTTY keys work; convert others with ssh-keygen",
    });
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key?.isPrivateKey())
    throw new UserError(`--identity: ${file} is a public key`, {
      field: "--identity",
      hint: `use the private key (probably ${file.replace(/\.pub$/, "")})`,
    });
}

/** null = skip this key (encrypted and nobody to ask, or the operator gave no passphrase). */
export async function loadIdentity(
  file: string,
  askPassphrase?: (file: string) => Promise<string | undefined>,
): Promise<LoadedIdentity | null> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `--identity: cannot read ${file} (${code === "ENOENT" ? "no such file" : (code ?? String(e))})`,
      {
        field: "--identity",
        hint: "give the path of your PRIVATE key file, e.g. -i ~/.ssh/id_ed25519",
      },
    );
  }
  const plain = utils.parseKey(data);
  if (!(plain instanceof Error)) {
    const key = Array.isArray(plain) ? plain[0] : plain;
    if (!key?.isPrivateKey()) {
      throw new UserError(`--identity: ${file} is a public key`, {
        field: "--identity",
        hint: `use the private key (probably ${file.replace(/\.pub$/, "")})`,
      });
    }
    return { data };
  }
  if (!/passphrase/i.test(plain.message)) {
    throw new UserError(`--identity: ${file} is not a private key ssh can use (${plain.message})`, {
      field: "--identity",
      hint: "OpenSSH, PEM (RSA/ECDSA) and PuTTY keys work; convert others with ssh-keygen",
    });
  }
  if (!askPassphrase) return null;
  for (let i = 0; i < MAX_PASSPHRASE_TRIES; i++) {
    const passphrase = await askPassphrase(file);
    if (passphrase === undefined || passphrase === "") return null;
    if (!(utils.parseKey(data, passphrase) instanceof Error)) return { data, passphrase };
  }
  throw new UserError(`--identity: wrong passphrase for ${file} (${MAX_PASSPHRASE_TRIES} tries)`, {
    field: "--identity",
    hint: "load the key into ssh-agent (ssh-add) or check the passphrase",
  });
}
