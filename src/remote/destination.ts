// `root@203.0.113.7:22`, `host`, `user@host`, `root@[2001:db8::1]:22`, a bare IPv6 literal -> parts.
import { isIPv4, isIPv6 } from "node:net";
import { badField } from "../errors";

export interface Destination {
  /** undefined when the operator did not name one (ssh config or the default, root, decides) */
  user?: string;
  host: string;
  /** undefined when not given (ssh config or 22 decides) */
  port?: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const IPV4 = { test: (s: string) => isIPv4(s) };
const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/;

export function isIpv6(s: string): boolean {
  return isIPv6(s);
}

export function parseDestination(input: string, field = "target"): Destination {
  const s = input.trim();
  const example = "write it as host, user@host, user@host:port or root@[2001:db8::1]:22";
  if (s === "") throw badField(field, "is empty", example);
  if (/\s/.test(s)) throw badField(field, `"${input}" contains a space`, example);
  if (s.startsWith("ssh://")) return parseDestination(s.slice(6).replace(/\/$/, ""), field);

  let user: string | undefined;
  let rest = s;
  const at = s.lastIndexOf("@");
  if (at >= 0) {
    user = s.slice(0, at);
    rest = s.slice(at + 1);
    if (user === "")
      throw badField(field, `"${input}" has an empty user name before "@"`, "write root@host, or leave out the @");
    if (!USER.test(user))
      throw badField(field, `"${user}" is not a valid user name`, "user names are letters, digits, '.', '_' and '-'");
  }
  if (rest === "") throw badField(field, `"${input}" has no host after "@"`, example);

  let host: string;
  let portText: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) throw badField(field, `"${input}" opens "[" but never closes it`, example);
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) throw badField(field, `"${input}": unexpected "${after}" after "]"`, example);
      portText = after.slice(1);
    }
    if (!isIpv6(host) && !IPV4.test(host) && !HOSTNAME.test(host))
      throw badField(field, `"${host}" is not an IP address or host name`, example);
  } else if (rest.split(":").length > 2) {
    // several colons without brackets: only a bare IPv6 literal (no port possible)
    if (!isIpv6(rest))
      throw badField(
        field,
        `"${rest}" is not a valid IPv6 address`,
        "put IPv6 addresses in brackets when you add a port: root@[2001:db8::1]:22",
      );
    host = rest;
  } else {
    const colon = rest.indexOf(":");
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    if (colon >= 0) portText = rest.slice(colon + 1);
    if (!IPV4.test(host) && !HOSTNAME.test(host)) {
      throw badField(field, `"${host}" is not an IP address or host name`, example);
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw badField(
        field,
        `"${portText}" is not a port number (1-65535)`,
        `fix the part after ":" in "${input}", e.g. ${user ? user + "@" : ""}${host.includes(":") ? `[${host}]` : host}:22`,
      );
    }
    port = Number(portText);
  }
  return { user, host, port };
}

/** `user@host:port` back as text, with IPv6 in brackets. */
export function formatDestination(d: { user?: string; host: string; port?: number }): string {
  const host = d.host.includes(":") ? `[${d.host}]` : d.host;
  return `${d.user ? d.user + "@" : ""}${host}${d.port !== undefined ? ":" + d.port : ""}`;
}
