// --ssh-key, shared by `plan` (offline) and `plan root@host`: operator public keys given on the
// command line, as key lines or .pub files. A private key or an age identity given by mistake, as
// content or as a file, is refused by its kind: no line of it reaches a message, --json or the log.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { UserError } from "../errors";
import { secretKind, secretPhrase } from "../util/secret-kind";
import type { CommandContext } from "./command";

const PUBLIC_HINT =
  "give the public key: the .pub file beside it (e.g. ~/.ssh/id_ed25519.pub), or the line `ssh-keygen -y -f KEY` prints";

function secretRefused(kind: string, where: string, hint: string): UserError {
  return new UserError(`--ssh-key: ${where} is ${secretPhrase(kind)}; it is not shown and was not used`, {
    field: "--ssh-key",
    hint,
  });
}

function hintFor(kind: string, path?: string): string {
  if (kind.startsWith("an age"))
    return "--ssh-key takes an SSH public key (e.g. ~/.ssh/id_ed25519.pub); age identities are not SSH keys";
  return path ? `give the public half: ${path}.pub (or the line \`ssh-keygen -y -f ${path}\` prints)` : PUBLIC_HINT;
}

/** --ssh-key values: a key line as is, otherwise a path to a .pub file (never a private key). */
export async function readSshKeyArgs(ctx: CommandContext, values: unknown): Promise<string[]> {
  const list = Array.isArray(values) ? (values as string[]) : typeof values === "string" ? [values] : [];
  const keys: string[] = [];
  for (const [i, v] of list.entries()) {
    const given = list.length > 1 ? `value ${i + 1}` : "the value";
    const pasted = secretKind(v);
    if (pasted) throw secretRefused(pasted, `${given} given`, hintFor(pasted));
    if (/^(ssh-|ecdsa-|sk-)/.test(v.trim())) {
      keys.push(v.trim());
      continue;
    }
    if (/[\r\n]/.test(v))
      throw new UserError(`--ssh-key: ${given} holds several lines: it is neither a key line nor a file path`, {
        field: "--ssh-key",
        hint: "give one public key line in quotes, or the path of a .pub file",
      });
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
    const inFile = secretKind(text);
    if (inFile) throw secretRefused(inFile, v, hintFor(inFile, v));
    keys.push(
      ...text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#")),
    );
  }
  return keys;
}
