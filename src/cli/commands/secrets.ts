// `nixnode-install secrets add|edit|rekey|list`: the flake's agenix secrets, encrypted to the
// operators' SSH keys and the node's host key. Plaintext never reaches argv, stdout or the log;
// `edit` keeps it only in a 0600 file inside a 0700 temp dir that is removed afterwards.
import { stageInFlakeGit } from "../../generate/write-flake";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CancelledError, OperationError, UserError, badField } from "../../errors";
import type { Command, CommandContext } from "../command";
import type { AgeIdentity } from "../../secrets/age";
import { operatorIdentitiesFromCli } from "../operator-identities";
import {
  HOST_KEY_SECRET,
  listSecretNames,
  loadSecretsContext,
  recipientsFor,
  secretName,
  secretPath,
  secretStatus,
  type SecretsContext,
} from "../../secrets/agenix";
import { GENERATORS, generateSecret, type GeneratorKind } from "../../secrets/generate-secret";
import { createSecretTempDir } from "../../secrets/host-key";
import { readSecret, rekeyAll, secretsContextWithHostKey, writePublicHalf, writeSecret } from "../../secrets/store";

const SUBCOMMANDS = ["add", "edit", "rekey", "list"] as const;

function flakeDir(ctx: CommandContext): string {
  const f = typeof ctx.options.flake === "string" ? ctx.options.flake : ".";
  return resolve(ctx.cwd, f);
}

function warnSkipped(ctx: CommandContext, s: SecretsContext): SecretsContext {
  if (s.skipped.length)
    ctx.out.warn(
      `these operator keys cannot be age recipients and are left out: ${s.skipped.join(", ")}`,
      "age supports ssh-ed25519 and ssh-rsa keys",
    );
  return s;
}

/** Read-only commands: the flake as it is. */
function context(ctx: CommandContext): SecretsContext {
  return warnSkipped(ctx, loadSecretsContext(flakeDir(ctx)));
}

/** Commands that encrypt: make the node's host key first if the flake has none, so secrets reach the node. */
async function contextForChange(ctx: CommandContext): Promise<SecretsContext> {
  const { ctx: s, hostKeyCreated } = await secretsContextWithHostKey(flakeDir(ctx));
  if (hostKeyCreated) {
    ctx.out.info(
      `Generated the node's SSH host key (${hostKeyCreated}): secrets/host-key.age, keys/ssh_host_ed25519_key.pub. The install uses this key.`,
    );
  }
  warnWithoutAgenix(ctx, s.flakeDir);
  return warnSkipped(ctx, s);
}

/** A text search, not Nix parsing: enough to tell the operator the node would not see the secret. */
function warnWithoutAgenix(ctx: CommandContext, dir: string): void {
  const flake = join(dir, "flake.nix");
  if (!existsSync(flake) || /agenix/.test(readFileSync(flake, "utf8"))) return;
  ctx.out.warn(
    "flake.nix does not load agenix yet, so the node will not decrypt these secrets",
    'add the agenix input and its module plus ./secrets/module.nix to the node\'s modules (docs/secrets.md, "Wiring agenix by hand")',
  );
}

/** -i/--identity files, or ~/.ssh/id_ed25519 and ~/.ssh/id_rsa when they exist. */
async function identities(ctx: CommandContext): Promise<AgeIdentity[]> {
  return operatorIdentitiesFromCli(ctx, (ctx.options.identity as string[] | undefined) ?? []);
}

async function readStdin(ctx: CommandContext): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Buffer));
  return new Uint8Array(Buffer.concat(chunks));
}

async function valueForAdd(ctx: CommandContext, name: string): Promise<{ value: Uint8Array; publicKey?: string }> {
  const from = ctx.options["from-file"];
  const gen = ctx.options.generate;
  if (typeof from === "string" && typeof gen === "string")
    throw badField("--from-file", "cannot be combined with --generate", "choose one source for the value");
  if (typeof gen === "string") {
    if (!(GENERATORS as readonly string[]).includes(gen))
      throw badField("--generate", `"${gen}" is not one of ${GENERATORS.join(", ")}`);
    return generateSecret(gen as GeneratorKind);
  }
  if (typeof from === "string") {
    if (from === "-") return { value: await readStdin(ctx) };
    try {
      return { value: new Uint8Array(readFileSync(resolve(ctx.cwd, from))) };
    } catch (e) {
      throw badField(
        "--from-file",
        `cannot read ${from} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
  if (!ctx.stdin.isTTY) return { value: await readStdin(ctx) };
  const prompts = (await import("prompts")).default;
  const r = await prompts({ type: "password", name: "v", message: `Value for ${name} (hidden)` });
  if (typeof r.v !== "string") throw new CancelledError("Cancelled. Nothing was changed.");
  return { value: new TextEncoder().encode(r.v) };
}

function describeRecipients(s: SecretsContext, name: string): string {
  const r = recipientsFor(s, name);
  const ops = r.filter((k) => k.binding !== "host").length;
  return `${ops} operator key${ops === 1 ? "" : "s"}${r.some((k) => k.binding === "host") ? " + the host key" : ""}`;
}

async function add(ctx: CommandContext, rawName: string | undefined): Promise<void> {
  if (!rawName)
    throw badField(
      "NAME",
      "missing",
      "usage: nixnode-install secrets add NAME [--from-file F | --generate wireguard|password|hex32]",
    );
  const name = secretName(rawName);
  if (name === HOST_KEY_SECRET)
    throw badField(
      "NAME",
      `"${HOST_KEY_SECRET}" is the node's host key, managed by the install`,
      "choose another name",
    );
  loadSecretsContext(flakeDir(ctx)); // validates --flake and the operator keys before anything else
  if (existsSync(secretPath(flakeDir(ctx), name)) && !ctx.options.force) {
    throw badField(
      "NAME",
      `secret "${name}" already exists`,
      `change it with \`secrets edit ${name}\`, or replace it with --force`,
    );
  }
  const { value, publicKey } = await valueForAdd(ctx, name);
  if (value.length === 0)
    throw badField(
      typeof ctx.options["from-file"] === "string" ? "--from-file" : "value",
      "is empty",
      "a secret needs a value",
    );
  const s = await contextForChange(ctx);
  const text = Buffer.from(value).toString("utf8");
  if (text.length >= 4) ctx.log.addSecret(text.trim());
  const path = await writeSecret(s, name, value);
  value.fill(0);
  const pubPath = publicKey ? writePublicHalf(s.flakeDir, name, publicKey) : undefined;
  ctx.log.write(`secrets add ${name}: wrote ${path}`);
  ctx.out.result(
    `Added secrets/${name}.age (encrypted to ${describeRecipients(s, name)}).${publicKey ? `\nPublic key (keys/${name}.pub): ${publicKey}` : ""}`,
    {
      name,
      file: `secrets/${name}.age`,
      recipients: recipientsFor(s, name).map((k) => k.fingerprint),
      publicKey: publicKey ?? null,
      publicKeyFile: pubPath ? `keys/${name}.pub` : null,
    },
  );
}

function editorArgv(env: NodeJS.ProcessEnv): string[] {
  const e = (env.VISUAL || env.EDITOR || "vi").trim();
  return e.split(/\s+/);
}

async function edit(ctx: CommandContext, rawName: string | undefined): Promise<void> {
  if (!rawName) throw badField("NAME", "missing", "usage: nixnode-install secrets edit NAME");
  const name = secretName(rawName);
  if (name === HOST_KEY_SECRET)
    throw badField(
      "NAME",
      "the host key is not edited by hand",
      "it is generated by the install; `secrets rekey` re-encrypts it",
    );
  const s = await contextForChange(ctx);
  const exists = existsSync(secretPath(s.flakeDir, name));
  const before = exists ? await readSecret(s, name, await identities(ctx)) : new Uint8Array(0);
  // Like agenix: with no editor configured and a pipe on stdin, stdin is the new value.
  if (!ctx.stdin.isTTY && !ctx.env.VISUAL && !ctx.env.EDITOR) {
    const value = await readStdin(ctx);
    if (value.length === 0)
      throw badField("value", "stdin is empty and no EDITOR is set", "pipe the new value in, or set EDITOR");
    const t = Buffer.from(value).toString("utf8").trim();
    if (t.length >= 4) ctx.log.addSecret(t);
    await writeSecret(s, name, value);
    value.fill(0);
    before.fill(0);
    ctx.out.result(
      `${exists ? "Updated" : "Added"} secrets/${name}.age from stdin (encrypted to ${describeRecipients(s, name)}).`,
      { name, changed: true },
    );
    return;
  }
  const tmp = createSecretTempDir("nixnode-edit-");
  try {
    const file = join(tmp.path, name);
    writeFileSync(file, before, { mode: 0o600 });
    const [cmd, ...args] = editorArgv(ctx.env);
    ctx.log.write(`secrets edit ${name}: running editor ${cmd}`);
    const r = spawnSync(cmd!, [...args, file], { stdio: "inherit", env: ctx.env });
    if (r.error)
      throw badField(
        "EDITOR",
        `cannot run "${cmd}" (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`,
        "set EDITOR to an installed editor, e.g. EDITOR=nano",
      );
    if (r.status !== 0)
      throw new OperationError(`the editor exited with ${r.status ?? r.signal}; secrets/${name}.age was not changed`);
    const after = new Uint8Array(readFileSync(file));
    if (Buffer.compare(Buffer.from(before), Buffer.from(after)) === 0) {
      ctx.out.result(`secrets/${name}.age unchanged.`, { name, changed: false });
      return;
    }
    if (after.length === 0) throw new OperationError(`the edited value is empty; secrets/${name}.age was not changed`);
    const t = Buffer.from(after).toString("utf8").trim();
    if (t.length >= 4) ctx.log.addSecret(t);
    await writeSecret(s, name, after);
    after.fill(0);
    ctx.out.result(
      `${exists ? "Updated" : "Added"} secrets/${name}.age (encrypted to ${describeRecipients(s, name)}).`,
      { name, changed: true },
    );
  } finally {
    before.fill(0);
    tmp.cleanup();
  }
}

async function rekey(ctx: CommandContext): Promise<void> {
  const s = await contextForChange(ctx);
  const names = listSecretNames(s.flakeDir);
  if (names.length === 0) {
    ctx.out.result("No secrets to rekey.", { rekeyed: [] });
    return;
  }
  const done = await rekeyAll(s, await identities(ctx));
  ctx.out.result(`Rekeyed ${done.length} secret${done.length === 1 ? "" : "s"}: ${done.join(", ")}`, { rekeyed: done });
}

function list(ctx: CommandContext): void {
  const s = context(ctx);
  const rows = listSecretNames(s.flakeDir).map((n) => secretStatus(s, n));
  const keys = [...s.operators, ...(s.host ? [s.host] : [])];
  const human = [
    "Keys:",
    ...keys.map((k) => `  ${k.binding.padEnd(10)} ${k.fingerprint}  ${k.line.split(/\s+/).slice(2).join(" ")}`),
    rows.length ? "Secrets:" : "No secrets yet: nixnode-install secrets add NAME --generate password",
    ...rows.map(
      (r) =>
        `  ${r.name.padEnd(24)} ${r.problem ? `DAMAGED: ${r.problem}` : `${r.encryptedTo.join(", ")}${r.stale ? "  (needs: secrets rekey)" : ""}`}`,
    ),
  ];
  ctx.out.result(human.join("\n"), {
    keys: keys.map((k) => ({ binding: k.binding, fingerprint: k.fingerprint })),
    secrets: rows,
  });
}

const command: Command = {
  name: "secrets",
  summary: "age secrets (agenix layout) encrypted to the host key and the operators' keys",
  usage: "nixnode-install secrets add|edit|rekey|list [NAME] [options]",
  description: `
Secrets live in the flake as secrets/<NAME>.age, encrypted to every operator key in nixnode.json
(ssh.authorizedKeys, ed25519 or RSA) and to the node's host key, so the node decrypts them at boot
(agenix). secrets/secrets.nix lists who each file is for; it is rewritten by these commands.

  secrets add NAME [--from-file F | --generate wireguard|password|hex32]   (no source: stdin or a hidden prompt)
  secrets edit NAME         decrypt into a private temp file, open $EDITOR, re-encrypt, remove the file
  secrets rekey             re-encrypt everything after adding or removing an operator or host key
  secrets list              who each secret is encrypted to, and which ones need a rekey

Generated values are never printed. Decrypting needs an operator's private key: -i PATH
(default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa).

Examples:
  nixnode-install secrets add wireguard --generate wireguard --flake ./my-node
  nixnode-install secrets add rpc-password --from-file ./rpc.txt
  EDITOR=nano nixnode-install secrets edit rpc-password -i ~/.ssh/id_ed25519
`,
  options: {
    flake: { type: "string", value: "DIR", help: "the node's flake directory (default: .)" },
    "from-file": { type: "string", value: "F", help: "add: read the value from file F (- for stdin)" },
    generate: { type: "string", value: "KIND", help: "add: generate the value: wireguard, password or hex32" },
    identity: {
      type: "string",
      short: "i",
      multiple: true,
      value: "PATH",
      help: "operator private key to decrypt with (repeatable)",
    },
    force: { type: "boolean", help: "add: replace an existing secret" },
  },
  maxArgs: 2,
  async run(ctx) {
    const [sub, name] = ctx.args;
    if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UserError(sub ? `"${sub}" is not a secrets command` : "missing secrets command", {
        field: sub ?? "COMMAND",
        hint: `use one of: ${SUBCOMMANDS.join(", ")}`,
      });
    }
    if ((sub === "rekey" || sub === "list") && name)
      throw new UserError(`unexpected argument "${name}"`, {
        field: name,
        hint: `usage: nixnode-install secrets ${sub}`,
      });
    if (sub === "list") return list(ctx);
    if (sub === "add") await add(ctx, name);
    else if (sub === "edit") await edit(ctx, name);
    else await rekey(ctx);
    // Nix sees only tracked files of a flake in git: new .age files and secrets/module.nix too
    await stageInFlakeGit(flakeDir(ctx), ["secrets", "keys"], (m, h) => ctx.out.warn(m, h));
  },
};
export default command;
