// --ssh-key, shared by `plan` (offline) and `plan root@host`: operator public keys given on the
// command line, as key lines or .pub files.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { UserError } from "../errors";
import type { CommandContext } from "./command";

/** --ssh-key values: a key line as is, otherwise a path to a .pub file (never a private key). */
export async function readSshKeyArgs(ctx: CommandContext, values: unknown): Promise<string[]> {
  const list = Array.isArray(values) ? (values as string[]) : typeof values === "string" ? [values] : [];
  const keys: string[] = [];
  for (const v of list) {
    if (/^(ssh-|ecdsa-|sk-)/.test(v.trim())) {
      keys.push(v.trim());
      continue;
    }
    const path = resolve(ctx.cwd, v.replace(/^~(?=\/)/, ctx.env.HOME ?? "~"));
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      throw new UserError(`--ssh-key: ${v} cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`, {
        field: "--ssh-key",
        hint: "give a public key file such as ~/.ssh/id_ed25519.pub, or the key line itself in quotes",
      });
    }
    if (/PRIVATE KEY/.test(text))
      throw new UserError(`--ssh-key: ${v} is a PRIVATE key`, {
        field: "--ssh-key",
        hint: `give the public half: ${v}.pub`,
      });
    keys.push(
      ...text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#")),
    );
  }
  return keys;
}
