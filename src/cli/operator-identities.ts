// The operator's SSH private keys as age identities, for commands that decrypt what the flake holds
// (secrets, the node's host key on reinstall): -i/--identity files, else ~/.ssh/id_ed25519 and
// ~/.ssh/id_rsa. A protected key's passphrase is asked at the terminal only; it never reaches argv
// and is registered with the log's redaction.
import { loadOperatorIdentities, type AgeIdentity, type AskPassphrase } from "../secrets/age";
import type { CommandContext } from "./command";

export async function askPassphraseFor(ctx: CommandContext): Promise<AskPassphrase | undefined> {
  if (!ctx.prompter.interactive) return undefined;
  return async (what) => {
    const passphrase = await ctx.prompter.password({ message: `Passphrase for ${what}` });
    ctx.log.addSecret(passphrase);
    return passphrase;
  };
}

export async function operatorIdentitiesFromCli(ctx: CommandContext, given: string[]): Promise<AgeIdentity[]> {
  return loadOperatorIdentities({ given, home: ctx.env.HOME ?? "", cwd: ctx.cwd, ask: await askPassphraseFor(ctx) });
}
