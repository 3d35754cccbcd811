// `nixnode-install secrets add|edit|rekey|list`: the flake's agenix secrets, encrypted to the
// operators' SSH keys and the node's host key. Plaintext never reaches argv, stdout or the log;
// `edit` keeps it only in a 0600 file inside a 0700 temp dir that is removed afterwards.
import { stageInFlakeGit } from "../../generate/write-flake";
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
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
import { withFlakeLock } from "../../secrets/flake-lock";
import { createSecretTempDir, refuseWithoutPublicKeyUnlessBusy, restoreHostPublicKey } from "../../secrets/host-key";
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
async function context(ctx: CommandContext): Promise<SecretsContext> {
  return warnSkipped(ctx, await loadSecretsContext(flakeDir(ctx)));
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
  return operatorIdentitiesFromCli(ctx, givenIdentities(ctx));
}

function givenIdentities(ctx: CommandContext): string[] {
  return (ctx.options.identity as string[] | undefined) ?? [];
}

/** Empty or only whitespace: nothing a service could use, and most likely a mistake. */
function isBlank(value: Uint8Array): boolean {
  return Buffer.from(value).toString("utf8").trim() === "";
}

/** How long to wait for another run that holds the flake's lock (NIXNODE_LOCK_WAIT_SECONDS, default 15). */
function lockWaitMs(ctx: CommandContext): number {
  const v = Number(ctx.env.NIXNODE_LOCK_WAIT_SECONDS);
  return Number.isFinite(v) && v >= 0 ? v * 1000 : 15_000;
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
  if (!ctx.prompter.interactive)
    throw badField(
      "value",
      "there is no terminal to ask on (--json, or output is not a terminal)",
      "pipe the value in, or use --from-file F",
    );
  const v = await ctx.prompter.password({ message: `Value for ${name} (hidden)` });
  return { value: new TextEncoder().encode(v) };
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
  await loadSecretsContext(flakeDir(ctx)); // validates --flake and nixnode.json before anything else
  refuseWithoutPublicKeyUnlessBusy(flakeDir(ctx)); // repeated under the lock (contextForChange)
  const refuseExisting = () => {
    if (existsSync(secretPath(flakeDir(ctx), name)) && !ctx.options.force)
      throw badField(
        "NAME",
        `secret "${name}" already exists`,
        `change it with \`secrets edit ${name}\`, or replace it with --force`,
      );
  };
  refuseExisting();
  const { value, publicKey } = await valueForAdd(ctx, name);
  if (isBlank(value))
    throw badField(
      typeof ctx.options["from-file"] === "string" ? "--from-file" : "value",
      "is empty",
      "a secret needs a value",
    );
  const text = Buffer.from(value).toString("utf8");
  if (text.trim().length >= 4) ctx.log.addSecret(text.trim());
  const { s, path, pubPath } = await withFlakeLock(
    flakeDir(ctx),
    `nixnode-install secrets add ${name}`,
    async () => {
      refuseExisting(); // another run may have added it while we read the value
      const s = await contextForChange(ctx);
      const path = await writeSecret(s, name, value);
      const pubPath = publicKey ? writePublicHalf(s.flakeDir, name, publicKey) : undefined;
      await stageInFlakeGit(s.flakeDir, ["secrets", "keys"], (m, h) => ctx.out.warn(m, h));
      return { s, path, pubPath };
    },
    { waitMs: lockWaitMs(ctx) },
  );
  value.fill(0);
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

interface Editor {
  /** The environment variable it came from, for messages (VISUAL, EDITOR, or EDITOR for the vi default). */
  field: "VISUAL" | "EDITOR";
  argv: string[];
}

/**
 * $VISUAL, else $EDITOR, else vi: split on blanks like agenix does, and the program checked to exist
 * and be executable before anything is decrypted or written.
 */
function findEditor(ctx: CommandContext): Editor {
  const field = ctx.env.VISUAL ? "VISUAL" : "EDITOR";
  const raw = (ctx.env.VISUAL || ctx.env.EDITOR || "vi").trim();
  const argv = raw.split(/\s+/).filter(Boolean);
  const cmd = argv[0] ?? "";
  const candidates = cmd.includes("/")
    ? [isAbsolute(cmd) ? cmd : resolve(ctx.cwd, cmd)]
    : (ctx.env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, cmd));
  const runnable = candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (!runnable) {
    const set = ctx.env.VISUAL || ctx.env.EDITOR;
    throw badField(
      field,
      set
        ? `"${cmd}" is not an executable program${cmd.includes("/") ? "" : " on PATH"}`
        : "is not set and vi is not installed",
      "set EDITOR to an installed editor, e.g. EDITOR=nano, or pipe the new value in with EDITOR unset",
    );
  }
  return { field, argv };
}

/**
 * Runs the editor on the file and waits. Ctrl-C (SIGINT) or SIGTERM reaching this process while it
 * runs cancels the edit: the editor is stopped and the caller writes nothing. (Full-screen editors
 * take Ctrl-C as a key, so this is a deliberate interrupt, not a keystroke inside vi.)
 */
async function runEditor(ctx: CommandContext, editor: Editor, file: string, name: string): Promise<void> {
  const [cmd, ...args] = editor.argv;
  const child = spawn(cmd!, [...args, file], { stdio: "inherit", env: ctx.env });
  let interrupted = ctx.signal.aborted;
  const onAbort = () => {
    interrupted = true;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  if (interrupted) onAbort();
  else ctx.signal.addEventListener("abort", onAbort, { once: true });
  const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
    child.once("error", (error) => done({ code: null, signal: null, error }));
    child.once("exit", (code, signal) => done({ code, signal }));
  }).finally(() => ctx.signal.removeEventListener("abort", onAbort));
  if (interrupted || r.signal === "SIGINT")
    throw new CancelledError(`Cancelled while the editor was open; secrets/${name}.age was not changed.`);
  if (r.error)
    throw badField(
      editor.field,
      `cannot run "${cmd}" (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`,
      "set EDITOR to an installed editor, e.g. EDITOR=nano",
    );
  if (r.code !== 0)
    throw new OperationError(`the editor exited with ${r.code ?? r.signal}; secrets/${name}.age was not changed`, {
      hint: "save and quit the editor normally to keep the new value",
    });
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
  // Every local input is checked before anything is decrypted, run or written.
  const dir = flakeDir(ctx);
  await loadSecretsContext(dir);
  refuseWithoutPublicKeyUnlessBusy(dir); // repeated under the lock (contextForChange)
  const fromStdin = !ctx.stdin.isTTY && !ctx.env.VISUAL && !ctx.env.EDITOR;
  const editor = fromStdin ? null : findEditor(ctx);
  const exists = existsSync(secretPath(dir, name));
  const ids = exists || givenIdentities(ctx).length ? await identities(ctx) : [];
  await withFlakeLock(
    dir,
    `nixnode-install secrets edit ${name}`,
    async () => {
      const readOnly = await loadSecretsContext(dir);
      const existsNow = existsSync(secretPath(dir, name));
      const before = existsNow ? await readSecret(readOnly, name, ids) : new Uint8Array(0);
      let after: Uint8Array;
      try {
        if (!editor) {
          // Like agenix: with no editor configured and a pipe on stdin, stdin is the new value.
          after = await readStdin(ctx);
          if (isBlank(after))
            throw badField("value", "stdin is empty and no EDITOR is set", "pipe the new value in, or set EDITOR");
        } else {
          after = await editInTempFile(ctx, editor, name, before);
          if (Buffer.compare(Buffer.from(before), Buffer.from(after)) === 0) {
            ctx.out.result(`secrets/${name}.age unchanged.`, { name, changed: false });
            return;
          }
          if (isBlank(after))
            throw badField(
              "value",
              `the edited value is empty; secrets/${name}.age was not changed`,
              "a secret needs a value; to remove it, delete the file and run `secrets rekey`",
            );
        }
      } finally {
        before.fill(0);
      }
      const t = Buffer.from(after).toString("utf8").trim();
      if (t.length >= 4) ctx.log.addSecret(t);
      const s = await contextForChange(ctx);
      await writeSecret(s, name, after);
      after.fill(0);
      await stageInFlakeGit(dir, ["secrets", "keys"], (m, h) => ctx.out.warn(m, h));
      ctx.out.result(
        `${existsNow ? "Updated" : "Added"} secrets/${name}.age${editor ? "" : " from stdin"} (encrypted to ${describeRecipients(s, name)}).`,
        { name, changed: true },
      );
    },
    { waitMs: lockWaitMs(ctx) },
  );
}

/** The plaintext lives only in a 0600 file in a 0700 temp folder, removed whatever happens. */
async function editInTempFile(
  ctx: CommandContext,
  editor: Editor,
  name: string,
  before: Uint8Array,
): Promise<Uint8Array> {
  const tmp = createSecretTempDir("nixnode-edit-");
  try {
    const file = join(tmp.path, name);
    writeFileSync(file, before, { mode: 0o600, flag: "wx" });
    ctx.log.write(`secrets edit ${name}: running editor ${editor.argv[0]}`);
    await runEditor(ctx, editor, file, name);
    return new Uint8Array(readFileSync(file));
  } finally {
    tmp.cleanup();
  }
}

async function rekey(ctx: CommandContext): Promise<void> {
  const dir = flakeDir(ctx);
  await loadSecretsContext(dir);
  const ids = await identities(ctx);
  await withFlakeLock(
    dir,
    "nixnode-install secrets rekey",
    async () => {
      // The one command that may bring back a deleted keys/ssh_host_ed25519_key.pub: it holds the
      // operator's key, and the .pub is derived from secrets/host-key.age, never made anew.
      const restored = await restoreHostPublicKey(dir, ids);
      if (restored) ctx.out.info(`Restored keys/ssh_host_ed25519_key.pub from secrets/host-key.age (${restored}).`);
      const s = await contextForChange(ctx);
      const names = listSecretNames(s.flakeDir);
      if (names.length === 0) {
        ctx.out.result("No secrets to rekey.", { rekeyed: [] });
        return;
      }
      const done = await rekeyAll(s, ids);
      await stageInFlakeGit(dir, ["secrets", "keys"], (m, h) => ctx.out.warn(m, h));
      ctx.out.result(`Rekeyed ${done.length} secret${done.length === 1 ? "" : "s"}: ${done.join(", ")}`, {
        rekeyed: done,
      });
    },
    { waitMs: lockWaitMs(ctx) },
  );
}

async function list(ctx: CommandContext): Promise<void> {
  const s = await context(ctx);
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
    flake: { type: "string", path: "dir-in", value: "DIR", help: "the node's flake directory (default: .)" },
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
    // Changes hold the flake's lock (flake-lock.ts) from reading to staging in git: Nix sees only
    // tracked files of a flake, new .age files and secrets/module.nix included.
    if (sub === "list") await list(ctx);
    else if (sub === "add") await add(ctx, name);
    else if (sub === "edit") await edit(ctx, name);
    else await rekey(ctx);
  },
};
export default command;
