// What went wrong, in the operator's words: each connect/auth/host-key failure becomes an
// OperationError (or UserError) that says what was observed and what to do.
import { CancelledError, OperationError, UserError, isNixnodeError } from "../errors";

/**
 * Why a host key was not accepted, as a type the callers switch on (never a regex over the text):
 * changed (a record or pin says another key), unknown (no record and no way to ask), revoked
 * (@revoked in known_hosts), declined (the operator answered no).
 */
export type HostKeyFailureKind = "changed" | "unknown" | "revoked" | "declined";

export interface HostKeyFailure {
  kind: HostKeyFailureKind;
  /** SHA256:... the server presented. */
  presented: string;
  /** What the record or pin expected (empty for unknown/declined). */
  expected: string[];
}

// A symbol from the global registry: the error may come from another copy of this module.
const HOST_KEY_FAILURE = Symbol.for("nixnode-install.host-key-failure");

function tagHostKey<E extends Error>(e: E, f: HostKeyFailure): E {
  Object.defineProperty(e, HOST_KEY_FAILURE, { value: f, enumerable: false });
  return e;
}

/** The host-key failure an error carries (through causes too), or null when it is something else. */
export function hostKeyFailureOf(e: unknown): HostKeyFailure | null {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === "object" && depth < 5; depth++) {
    const f = (cur as Record<symbol, unknown>)[HOST_KEY_FAILURE];
    if (f) return f as HostKeyFailure;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

export interface AuthTrace {
  user: string;
  where: string;
  /** methods attempted and failed, in order (agent, publickey, password) */
  tried: string[];
  /** what the server said it accepts (null until it said) */
  offered: string[] | null;
  /** the server answered PK_OK for a key, then refused the signed login (PermitRootLogin no, AllowUsers...) */
  keyAcceptedThenRefused: boolean;
  passwordTried: boolean;
  hadCredentials: boolean;
  error?: Error;
}

export function describeConnectError(e: NodeJS.ErrnoException, host: string, port: number, where: string): Error {
  switch (e.code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
    case "EAI_NONAME":
      return new OperationError(`${where}: cannot resolve the host name "${host}"`, {
        field: "target",
        hint: "check the spelling, your DNS, or use the machine's IP address",
        cause: e,
      });
    case "ECONNREFUSED":
      return new OperationError(`${where}: connection refused on port ${port}: nothing listens there`, {
        hint: `sshd may be on another port (write user@host:PORT), not running yet, or a firewall rejects port ${port}`,
        cause: e,
      });
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EHOSTDOWN":
      return new OperationError(`${where}: no route to ${host} (${e.code})`, {
        hint: "the machine is down or its network is not up; check the address and your connection",
        cause: e,
      });
    case "ETIMEDOUT":
      return new OperationError(`${where}: no answer (timed out)`, {
        hint: "check the address; a firewall that drops packets looks like this",
        cause: e,
      });
    case "ECONNRESET":
    case "EPIPE":
      return new OperationError(`${where}: the connection was reset during the SSH handshake`, {
        hint: "something in the path (fail2ban, a firewall, MaxStartups) cut it; wait a minute and try again",
        cause: e,
      });
    default:
      return new OperationError(`${where}: cannot connect: ${e.message}`, { cause: e });
  }
}

export function describeAuthFailure(t: AuthTrace): Error {
  if (t.error)
    return isNixnodeError(t.error)
      ? t.error
      : new OperationError(`${t.where}: login failed: ${t.error.message}`, { cause: t.error });
  const offered = t.offered ? ` (the server offers: ${t.offered.join(", ")})` : "";
  if (t.keyAcceptedThenRefused) {
    return new OperationError(
      t.user === "root"
        ? `${t.where}: the server accepted your key but refused to log in root: root login is disabled (PermitRootLogin no)`
        : `${t.where}: the server accepted your key but refused to log in ${t.user} (AllowUsers/DenyUsers or a locked account)`,
      {
        hint:
          t.user === "root"
            ? "log in as a user with passwordless sudo instead: user@host"
            : "check the server's sshd_config and the account",
      },
    );
  }
  if (!t.hadCredentials) {
    return new UserError(
      `${t.where}: no way to log in: no SSH agent (SSH_AUTH_SOCK), no key file (-i) and no password`,
      {
        field: "--identity",
        hint: "pass -i ~/.ssh/id_ed25519, start ssh-agent, or give a password (prompt, --password-file, NIXNODE_SSH_PASSWORD)",
      },
    );
  }
  if (t.passwordTried) {
    return new OperationError(`${t.where}: the password was not accepted${offered}`, {
      hint:
        t.user === "root"
          ? "check the password; if the server refuses root passwords (PermitRootLogin prohibit-password or no), use a key (-i) or a sudo user"
          : "check the user name and the password",
    });
  }
  if (t.offered && !t.offered.includes("password") && !t.offered.includes("keyboard-interactive")) {
    return new OperationError(
      `${t.where}: none of your keys is accepted and the server allows only public-key login${offered}`,
      {
        hint: "pass -i with the key whose .pub is in the server's ~/.ssh/authorized_keys, or add your key there via the provider's console",
      },
    );
  }
  return new OperationError(
    `${t.where}: login failed (tried: ${t.tried.join(", ") || "nothing the server accepts"})${offered}`,
    {
      hint: "check the key (-i), the agent, or give a password",
    },
  );
}

export function hostKeyChanged(where: string, expected: string[], got: string, source: string): Error {
  const fingerprints = expected.map((x) => x.split(" ")[0]!);
  return tagHostKey(
    new OperationError(
      `${where}: THE HOST KEY HAS CHANGED. Refusing to connect; nothing was sent beyond the handshake.`,
      {
        details: [`expected (${source}): ${expected.join(", ")}`, `the server presented:  ${got}`],
        hint: "if you reinstalled this machine, verify the new key via your provider's console, then remove the old entry (ssh-keygen -R HOST) or pass the new --host-key; otherwise someone may be intercepting the connection",
      },
    ),
    { kind: "changed", presented: got, expected: fingerprints },
  );
}

export function hostKeyRejected(
  where: string,
  fingerprint: string,
  reason: string,
  hint?: string,
  kind: "unknown" | "revoked" = "unknown",
): Error {
  return tagHostKey(
    new OperationError(
      `${where}: host key ${fingerprint} not accepted: ${reason}. Nothing was sent beyond the handshake.`,
      { hint },
    ),
    { kind, presented: fingerprint, expected: [] },
  );
}

/** The operator answered "no" to a first-seen key: a cancellation (exit 130), not an alarm. */
export function hostKeyDeclined(where: string, fingerprint: string): Error {
  return tagHostKey(
    new CancelledError(`${where}: host key ${fingerprint} not accepted. Nothing was sent to the server.`),
    { kind: "declined", presented: fingerprint, expected: [] },
  );
}
