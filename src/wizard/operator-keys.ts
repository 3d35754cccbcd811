// Public keys the operator already has: the agent's (`ssh-add -L`) and ~/.ssh/*.pub. Offered by the
// wizard so that nobody has to paste a key by hand; only keys the planner accepts are offered.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors";
import { parsePublicKey } from "../plan/ssh-public-key";

export interface KeySources {
  /** Output of `ssh-add -L` ("" when there is no agent). */
  agentKeys(): Promise<string>;
  /** Contents of the operator's ~/.ssh/*.pub files. */
  pubFiles(): Promise<string[]>;
}

export function systemKeySources(env: NodeJS.ProcessEnv, home = env.HOME ?? homedir()): KeySources {
  return {
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

/** Valid, distinct public key lines: agent first (those keys are in use), then files. */
export async function findOperatorKeys(sources: KeySources): Promise<string[]> {
  const [agent, files] = await Promise.all([sources.agentKeys(), sources.pubFiles()]);
  const seen = new Set<string>();
  const keys: string[] = [];
  for (const line of [...agent.split("\n"), ...files.flatMap((f) => f.split("\n"))]) {
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
