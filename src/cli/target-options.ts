// The SSH flags every remote command shares, and connectFromCli: destination + ~/.ssh/config +
// flags + environment + prompts (only on a terminal) -> one authenticated SshTarget.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { CommandContext, OptionSpec } from "./command";
import { UserError, badField } from "../errors";
import { readableFile, updatableFile } from "./local-paths";
import { checkPrivateKeyFile } from "../remote/identity";
import { shellQuote } from "../util/shell-quote";
import { parseDestination } from "../remote/destination";
import { resolveSshConfigFile } from "../remote/ssh-config";
import { connectSsh, type ConnectOptions, type HostKeyQuestion, type SshTarget } from "../remote/ssh-target";

export const SSH_CLI_OPTIONS: Record<string, OptionSpec> = {
  identity: {
    type: "string",
    short: "i",
    multiple: true,
    value: "FILE",
    help: "private key to log in with (repeatable; the agent and ~/.ssh/id_* are tried too)",
  },
  "password-file": {
    type: "string",
    value: "FILE",
    help: "read the login password from FILE (or set NIXNODE_SSH_PASSWORD); never pass it in argv",
  },
  "host-key": {
    type: "string",
    value: "SHA256:...",
    help: "accept only this host key fingerprint (as ssh-keygen -lf prints it)",
  },
  "accept-new-host-key": {
    type: "boolean",
    help: "trust a host key the first time this host is seen (a CHANGED key is still refused)",
  },
  "known-hosts": {
    type: "string",
    value: "FILE",
    help: "known_hosts file to check and update (default ~/.ssh/known_hosts)",
  },
  "connect-timeout": { type: "string", value: "SECONDS", help: "give up connecting after SECONDS (default 15)" },
  "ssh-config": { type: "string", value: "FILE", help: "ssh config file for Host aliases (default ~/.ssh/config)" },
};

/**
 * The SSH flags the operator gave, as text for a printed "Next:" command, so that the next step
 * logs in the same way (-i, --ssh-config, --known-hosts); quoted for a shell.
 */
export function sshFlagsForNext(ctx: Pick<CommandContext, "options">): string {
  // a leading ~/ stays outside the quotes, or the shell would not expand it
  const path = (p: string) => (p.startsWith("~/") ? `~/${shellQuote(p.slice(2))}` : shellQuote(p));
  const parts: string[] = [];
  for (const f of (ctx.options.identity as string[] | undefined) ?? []) parts.push("-i", path(f));
  for (const flag of ["ssh-config", "known-hosts"]) {
    const v = ctx.options[flag];
    if (typeof v === "string") parts.push(`--${flag}`, path(v));
  }
  return parts.length ? ` ${parts.join(" ")}` : "";
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

export interface SshCliSettings extends ConnectOptions {
  /** what to tell the operator about ~/.ssh/config keywords that are not applied */
  ignoredConfig: string[];
}

function opt(ctx: Pick<CommandContext, "options">, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === "string" ? v : undefined;
}

/** Everything but the prompts and the connection: pure enough to test without a terminal. */
export function sshSettingsFromCli(
  ctx: Pick<CommandContext, "options" | "env" | "cwd">,
  destination: string,
): SshCliSettings {
  const home = ctx.env.HOME ?? "/root";
  const dest = parseDestination(destination, "target");
  const configText = opt(ctx, "ssh-config");
  const configFile = configText === undefined ? undefined : readableFile(configText, "--ssh-config", ctx);
  const cfg = resolveSshConfigFile(dest.host, configFile, {
    home,
    remoteUser: dest.user,
  });

  const hostKey = opt(ctx, "host-key");
  if (hostKey !== undefined && !FINGERPRINT.test(hostKey)) {
    throw badField(
      "--host-key",
      `"${hostKey}" is not a SHA256 fingerprint`,
      "copy it as ssh-keygen -lf prints it: SHA256: followed by 43 characters",
    );
  }
  const timeoutText = opt(ctx, "connect-timeout");
  let connectTimeoutMs: number | undefined;
  if (timeoutText !== undefined) {
    if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1 || Number(timeoutText) > 3600) {
      throw badField(
        "--connect-timeout",
        `"${timeoutText}" is not a number of seconds (1-3600)`,
        "e.g. --connect-timeout 30",
      );
    }
    connectTimeoutMs = Number(timeoutText) * 1000;
  }

  const given = ((ctx.options.identity as string[] | undefined) ?? []).map((f) => readableFile(f, "--identity", ctx));
  for (const f of given) checkPrivateKeyFile(f);
  const defaults = ["id_ed25519", "id_ecdsa", "id_rsa"].map((n) => join(home, ".ssh", n)).filter((f) => existsSync(f));
  const fromConfig = cfg.identityFiles.filter((f) => existsSync(f));
  const identityFiles = [...new Set([...given, ...fromConfig, ...(given.length || fromConfig.length ? [] : defaults)])];

  let password: string | undefined;
  const passwordFile = opt(ctx, "password-file");
  if (passwordFile !== undefined) {
    const file = readableFile(passwordFile, "--password-file", ctx);
    try {
      password = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (e) {
      throw badField(
        "--password-file",
        `cannot read ${passwordFile} (${(e as NodeJS.ErrnoException).code ?? e})`,
        "create the file (chmod 600) with the password on its first line",
      );
    }
    if (password === "")
      throw badField("--password-file", `${passwordFile} is empty`, "put the password on the first line");
    if ((statSync(file).mode & 0o077) !== 0)
      throw badField("--password-file", `${passwordFile} can be read by other users`, `chmod 600 ${passwordFile}`);
  } else if (ctx.env.NIXNODE_SSH_PASSWORD) {
    password = ctx.env.NIXNODE_SSH_PASSWORD;
  }

  const knownHosts = opt(ctx, "known-hosts");
  const knownHostsFiles =
    knownHosts !== undefined
      ? [updatableFile(knownHosts, "--known-hosts", ctx)]
      : (cfg.userKnownHostsFiles ?? [join(home, ".ssh", "known_hosts"), join(home, ".ssh", "known_hosts2")]);

  return {
    host: cfg.hostName,
    port: dest.port ?? cfg.port ?? 22,
    user: dest.user ?? cfg.user ?? "root",
    agentSocket: cfg.identitiesOnly ? undefined : ctx.env.SSH_AUTH_SOCK || undefined,
    identityFiles,
    password,
    knownHostsFiles,
    pinnedHostKey: hostKey,
    acceptNewHostKey: ctx.options["accept-new-host-key"] === true,
    connectTimeoutMs,
    ignoredConfig: cfg.ignored,
  };
}

export async function connectFromCli(
  ctx: CommandContext,
  destination: string,
  extra: Partial<ConnectOptions> = {},
): Promise<SshTarget> {
  const s = sshSettingsFromCli(ctx, destination);
  for (const k of s.ignoredConfig)
    ctx.out.warn(
      `~/.ssh/config: ${k} for this host is not applied by nixnode-install`,
      "connect directly, or use an address the machine answers on",
    );
  const interactive = ctx.prompter.interactive;
  const prompter = ctx.prompter;
  const where = `${s.user}@${s.host}:${s.port}`;
  const opts: ConnectOptions = {
    ...s,
    log: ctx.log,
    signal: ctx.signal,
    askPassword:
      interactive && s.password === undefined
        ? async () => (await prompter.password({ message: `Password for ${where}` })) || undefined
        : undefined,
    askPassphrase: interactive
      ? async (file) => (await prompter.password({ message: `Passphrase for ${file}` })) || undefined
      : undefined,
    // typed out like ssh's question: a lone "y" never decides, so its Enter cannot answer the next question
    confirmHostKey: interactive
      ? (q: HostKeyQuestion) =>
          prompter.confirm({
            message:
              `${q.otherTypesKnown ? "This host's key type is new to you. " : "First connection to this host. "}` +
              `Its ${q.keyType} key is ${q.fingerprint}. Does that match what your provider shows?`,
            alsoYes: q.fingerprint,
          })
      : undefined,
    ...extra,
  };
  if (s.password) ctx.log.addSecret(s.password);
  ctx.log.write(
    `ssh: connecting to ${where} (agent: ${opts.agentSocket ? "yes" : "no"}, keys: ${opts.identityFiles?.length ?? 0}, password: ${s.password ? "given" : interactive ? "prompt" : "none"})`,
  );
  if (!s.password && !opts.askPassword && !opts.agentSocket && !opts.identityFiles?.length) {
    throw new UserError(`${where}: no way to log in: no SSH agent, no key file and no password`, {
      field: "--identity",
      hint: "pass -i ~/.ssh/id_ed25519, start ssh-agent, or give a password (--password-file FILE or NIXNODE_SSH_PASSWORD)",
    });
  }
  return connectSsh(opts);
}
