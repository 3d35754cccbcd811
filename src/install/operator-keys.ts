// The public keys the operator can log in with from this machine: the agent's, the -i files'
// (their .pub, or derived with ssh-keygen -y when it is unencrypted), and ~/.ssh/*.pub. The install
// refuses when none of them is authorised on the new system (nixos-anywhere #294).
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { findOperatorKeys, systemKeySources } from "../wizard/operator-keys";

function publicKeyOf(identityFile: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  if (existsSync(`${identityFile}.pub`)) return Promise.resolve(readFileSync(`${identityFile}.pub`, "utf8").trim());
  // -P '' makes ssh-keygen fail instead of prompting for an encrypted key's passphrase
  return new Promise((resolve) =>
    execFile("ssh-keygen", ["-y", "-P", "", "-f", identityFile], { env, timeout: 5000 }, (err, stdout) =>
      resolve(err ? null : stdout.trim()),
    ),
  );
}

export async function operatorPublicKeys(env: NodeJS.ProcessEnv, identityFiles: string[]): Promise<string[]> {
  const fromFiles = (await Promise.all(identityFiles.map((f) => publicKeyOf(f, env)))).filter((k): k is string => !!k);
  const sources = systemKeySources(env);
  const found = await findOperatorKeys({
    agentKeys: sources.agentKeys,
    pubFiles: async () => [...fromFiles, ...(await sources.pubFiles())],
  });
  return found;
}
