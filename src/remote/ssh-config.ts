// ~/.ssh/config as OpenSSH reads it, for the keywords this tool uses: Host blocks with wildcards
// and negation, first value wins (IdentityFile accumulates), Include, `Keyword=value` or
// `Keyword value`, quoted values. Match blocks are not evaluated (skipped, and reported).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { isIP } from "node:net";
import { basename, dirname, isAbsolute, join } from "node:path";
import { badField } from "../errors";

export interface SshConfigHost {
  /** the alias the operator typed */
  alias: string;
  hostName: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identitiesOnly?: boolean;
  userKnownHostsFiles?: string[];
  /** keywords present for this host that this tool does not apply (ProxyJump...) */
  ignored: string[];
}

const USED = new Set(["hostname", "user", "port", "identityfile", "identitiesonly", "userknownhostsfile"]);
const WORTH_REPORTING = new Set(["proxyjump", "proxycommand", "match", "certificatefile"]);

/** OpenSSH pattern list semantics: any negated match excludes, else any positive match includes. */
export function matchHostPatterns(name: string, patterns: string[]): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const p = negated ? raw.slice(1) : raw;
    if (globMatch(name.toLowerCase(), p.toLowerCase())) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatch(s: string, pattern: string): boolean {
  const re = new RegExp(
    "^" +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".") +
      "$",
  );
  return re.test(s);
}

interface Line {
  keyword: string;
  args: string[];
  /** where it was written, for errors: "~/.ssh/config:12" */
  where: string;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] ?? m[2] ?? "");
  return out;
}

function tokenize(text: string, file = "ssh config"): Line[] {
  const lines: Line[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) return;
    lines.push({ keyword: m[1]!.toLowerCase(), args: splitArgs(m[2]!), where: `${file}:${i + 1}` });
  });
  return lines;
}

/** What ssh itself would accept as a host to connect to: an IP address or DNS labels, nothing a shell reads. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function expandTilde(p: string, home: string): string {
  return p === "~" ? home : p.startsWith("~/") ? join(home, p.slice(2)) : p;
}

/** Reads a config file with its Includes (relative to ~/.ssh, simple * globs in the last part). */
function readConfigLines(file: string, home: string, depth = 0): Line[] {
  if (depth > 8 || !existsSync(file)) return [];
  const out: Line[] = [];
  for (const l of tokenize(readFileSync(file, "utf8"), file)) {
    if (l.keyword !== "include") {
      out.push(l);
      continue;
    }
    for (const arg of l.args) {
      const p = expandTilde(arg, home);
      const abs = isAbsolute(p) ? p : join(home, ".ssh", p);
      const dir = dirname(abs);
      const files =
        abs.includes("*") || abs.includes("?")
          ? existsSync(dir)
            ? readdirSync(dir)
                .filter((f) => globMatch(f, basename(abs)))
                .sort()
                .map((f) => join(dir, f))
            : []
          : [abs];
      for (const f of files) out.push(...readConfigLines(f, home, depth + 1));
    }
  }
  return out;
}

export function resolveSshConfig(
  alias: string,
  text: string | Line[],
  opts: { home?: string; localUser?: string; remoteUser?: string } = {},
): SshConfigHost {
  const home = opts.home ?? homedir();
  const lines = typeof text === "string" ? tokenize(text) : text;
  const values = new Map<string, string[]>();
  const where = new Map<string, string>();
  const identityFiles: string[] = [];
  const ignored = new Set<string>();
  let active = true; // lines before the first Host apply to every host
  for (const l of lines) {
    if (l.keyword === "host") {
      active = matchHostPatterns(alias, l.args);
      continue;
    }
    if (l.keyword === "match") {
      active = false; // Match criteria are not evaluated: do not apply what we cannot judge
      ignored.add("Match");
      continue;
    }
    if (!active) continue;
    if (l.keyword === "identityfile") identityFiles.push(...l.args.slice(0, 1));
    else if (USED.has(l.keyword) && !values.has(l.keyword)) {
      values.set(l.keyword, l.args);
      where.set(l.keyword, l.where);
    } else if (WORTH_REPORTING.has(l.keyword)) ignored.add(l.keyword);
  }
  const first = (k: string) => values.get(k)?.[0];
  const hostName = (first("hostname") ?? alias).replace(/%h/g, alias).replace(/%%/g, "%");
  // A value this tool would use is checked, never silently dropped, and never sent to DNS as typed.
  if (values.has("hostname") && !isIP(hostName.replace(/^\[(.*)\]$/, "$1")) && !HOST_NAME.test(hostName))
    throw badField(
      "--ssh-config",
      `${where.get("hostname")}: HostName ${JSON.stringify(hostName)} is not an IP address or host name`,
      `fix that line of ${where.get("hostname")!.replace(/:\d+$/, "")}: a host name is letters, digits, '-' and '.'`,
    );
  const user = first("user");
  if (user !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(user))
    throw badField(
      "--ssh-config",
      `${where.get("user")}: User ${JSON.stringify(user)} is not a valid user name`,
      "user names are letters, digits, '.', '_' and '-'",
    );
  const portText = first("port");
  if (portText !== undefined && !(/^\d{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535))
    throw badField(
      "--ssh-config",
      `${where.get("port")}: Port ${JSON.stringify(portText)} is not a port number (1-65535)`,
      `fix that line of ${where.get("port")!.replace(/:\d+$/, "")}`,
    );
  const port = portText === undefined ? undefined : Number(portText);
  const localUser = opts.localUser ?? safeUser();
  const remoteUser = opts.remoteUser ?? user ?? localUser;
  const expand = (p: string) =>
    expandTilde(p, home).replace(/%(.)/g, (_, c: string) =>
      c === "d"
        ? home
        : c === "h"
          ? hostName
          : c === "r"
            ? remoteUser
            : c === "u"
              ? localUser
              : c === "%"
                ? "%"
                : `%${c}`,
    );
  const io = first("identitiesonly");
  return {
    alias,
    hostName,
    user,
    port,
    identityFiles: identityFiles.map(expand),
    identitiesOnly: io === undefined ? undefined : io.toLowerCase() === "yes",
    userKnownHostsFiles: values.get("userknownhostsfile")?.map(expand),
    ignored: [...ignored],
  };
}

/** Resolves `alias` from a config file (default ~/.ssh/config); a missing file resolves to itself. */
export function resolveSshConfigFile(
  alias: string,
  file?: string,
  opts: { home?: string; remoteUser?: string } = {},
): SshConfigHost {
  const home = opts.home ?? homedir();
  return resolveSshConfig(alias, readConfigLines(file ?? join(home, ".ssh", "config"), home), { ...opts, home });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "root";
  }
}
