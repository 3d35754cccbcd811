// The operator's public keys for a machine installed at its own console: nobody logs in from here,
// so the keys come from what the operator brings: pasted, a file (a second USB stick), or the list
// GitHub publishes for an account (https://github.com/<user>.keys), always shown before use.
import { readFileSync } from "node:fs";
import { OperationError, UserError } from "../../errors";
import { parsePublicKey } from "../../plan/ssh-public-key";

export const GITHUB_KEYS_BASE = "https://github.com";
const GITHUB_USER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

/** Every key line of a text (authorized_keys or <user>.keys format); comments and blanks skipped. */
export function keyLines(text: string, field: string): string[] {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  return lines.map((l, i) => parsePublicKey(l, `${field} line ${i + 1}`).line);
}

export function readKeysFile(path: string, field = "--keys-file"): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(
      `${field}: ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      {
        field,
        hint: "mount the USB stick holding your .pub file (mount /dev/sdX1 /media) and give its path",
      },
    );
  }
  const keys = keyLines(text, field);
  if (!keys.length)
    throw new UserError(`${field}: ${path} holds no public key`, { field, hint: "give your ~/.ssh/id_ed25519.pub" });
  return keys;
}

export async function fetchGithubKeys(
  user: string,
  o: { base?: string; signal?: AbortSignal; field?: string } = {},
): Promise<string[]> {
  const field = o.field ?? "--github-keys";
  if (!GITHUB_USER.test(user))
    throw new UserError(`${field}: "${user.slice(0, 60)}" is not a GitHub user name`, {
      field,
      hint: "give the account name only, e.g. --github-keys octocat",
    });
  const url = `${(o.base ?? GITHUB_KEYS_BASE).replace(/\/+$/, "")}/${user}.keys`;
  let res: Response;
  try {
    const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(20_000)]) : AbortSignal.timeout(20_000);
    res = await fetch(url, { signal, redirect: "follow" });
  } catch (e) {
    throw new OperationError(`cannot fetch ${url}: ${(e as Error).message}`, {
      hint: "this machine needs a network connection for that; or paste the key, or give a file (--keys-file)",
    });
  }
  if (res.status === 404)
    throw new UserError(`${field}: GitHub has no user "${user}"`, { field, hint: "check the spelling of the account" });
  if (!res.ok) throw new OperationError(`${url} answered HTTP ${res.status}`, { hint: "try again, or paste the key" });
  const keys = keyLines(await res.text(), `${url}`);
  if (!keys.length)
    throw new UserError(`${field}: ${user} has no public SSH key on GitHub`, {
      field,
      hint: "add one at https://github.com/settings/keys, or paste the key / give a file",
    });
  return keys;
}

/** One answer at the console: a pasted key line, a file path, or github:USER. */
export async function keysFromAnswer(answer: string, o: { base?: string; signal?: AbortSignal }): Promise<string[]> {
  const a = answer.trim();
  if (/^github:/i.test(a)) return fetchGithubKeys(a.slice(7).trim(), { ...o, field: "key" });
  if (a.startsWith("/") || a.startsWith("./") || a.startsWith("~")) return readKeysFile(a, "key");
  return [parsePublicKey(a, "key").line];
}
