// Public keys the operator already has: the one they log in with (-i KEY: KEY.pub beside it, or
// derived from an unencrypted KEY), the agent's (`ssh-add -L`) and ~/.ssh/*.pub. Offered by the
// wizard so that nobody has to paste a key by hand; only keys the planner accepts are offered.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { utils } from "ssh2";
import { homedir } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors";
import { parsePublicKey } from "../plan/ssh-public-key";

export interface KeySources {
  /** Public keys of the private keys given with -i (the login), one line each; offered first. */
  loginKeys?(): Promise<string[]>;
  /** Output of `ssh-add -L` ("" when there is no agent). */
  agentKeys(): Promise<string>;
  /** Contents of the operator's ~/.ssh/*.pub files. */
  pubFiles(): Promise<string[]>;
}

/** KEY.pub beside KEY; else the public half of an unencrypted KEY; else nothing (never an error). */
export async function loginPublicKey(privateKeyFile: string): Promise<string | null> {
  const pub = await readFile(`${privateKeyFile}.pub`, "utf8").catch(() => null);
  if (pub !== null) return pub.split("\n").find((l) => l.trim() && !l.startsWith("#")) ?? null;
  const data = await readFile(privateKeyFile).catch(() => null);
  if (!data) return null;
  const parsed = utils.parseKey(data);
  const key = parsed instanceof Error ? null : Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key?.isPrivateKey()) return null;
  return `${key.type} ${key.getPublicSSH().toString("base64")}${key.comment ? ` ${key.comment}` : ""}`;
}

export function systemKeySources(
  env: NodeJS.ProcessEnv,
  home = env.HOME ?? homedir(),
  identityFiles: string[] = [],
): KeySources {
  return {
    loginKeys: async () =>
      (await Promise.all(identityFiles.map(loginPublicKey))).filter((k): k is string => k !== null),
    agentKeys: () =>
      new Promise((resolve) => {
        if (!env.SSH_AUTH_SOCK) return resolve("");
        // Bounded: a stale agent socket must not hang the wizard. No agent = no keys, not an error.
        execFile("ssh-add", ["-L"], { env, timeout: 5000 }, (err, stdout) => resolve(err ? "" : stdout));
      }),
    pubFiles: async () => {
      const dir = join(home, ".ssh");
      const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT" || e.code === "ENOTDIR" || e.code === "EACCES") return [] as string[];
        throw e;
      });
      const pubs = names.filter((n) => n.endsWith(".pub")).sort();
      return Promise.all(pubs.map((n) => readFile(join(dir, n), "utf8").catch(() => "")));
    },
  };
}

/** Valid, distinct public key lines: the login keys first, then the agent's (in use), then files. */
export async function findOperatorKeys(sources: KeySources): Promise<string[]> {
  const [login, agent, files] = await Promise.all([
    sources.loginKeys?.() ?? [],
    sources.agentKeys(),
    sources.pubFiles(),
  ]);
  const seen = new Set<string>();
  const keys: string[] = [];
  for (const line of [...login, ...agent.split("\n"), ...files.flatMap((f) => f.split("\n"))]) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    try {
      const k = parsePublicKey(t, "key");
      if (seen.has(k.fingerprint)) continue;
      seen.add(k.fingerprint);
      keys.push(k.line);
    } catch (e) {
      if (!(e instanceof UserError)) throw e; // a weak or odd key is simply not offered
    }
  }
  return keys;
}
