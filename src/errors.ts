// The one error hierarchy. Code anywhere throws these; ONLY src/cli/main.ts turns them into
// messages and exit codes. No process.exit() deep inside logic, no silent catch {}.

export interface ErrorDetails {
  /** The input that is wrong, as the user wrote it: `ssh.port`, `--host-key`, `disk.devices[1]`. */
  field?: string;
  /** What to do about it, one sentence. */
  hint?: string;
  /** Extra lines shown under the message (observations, diagnostics). */
  details?: string[];
  cause?: unknown;
}

export type ErrorKind = "user" | "operation" | "cancelled" | "internal";

export abstract class NixnodeError extends Error {
  abstract readonly exitCode: number;
  abstract readonly kind: ErrorKind;
  readonly field?: string;
  readonly hint?: string;
  readonly details: string[];
  constructor(message: string, opts: ErrorDetails = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.field = opts.field;
    this.hint = opts.hint;
    this.details = opts.details ?? [];
  }
}

/** Bad input from the operator (argv, config file, facts file, key file...). Exit 2, nothing changed. */
export class UserError extends NixnodeError {
  readonly exitCode = 2;
  readonly kind = "user";
}

/**
 * The operation could not be done, but the tool behaved correctly: the target is unreachable,
 * refused, never came back, or a guarded change was rolled back. Exit 3, with what was observed.
 */
export class OperationError extends NixnodeError {
  readonly exitCode = 3;
  readonly kind = "operation";
}

/** The operator pressed Ctrl-C or declined a confirmation. Exit 130. */
export class CancelledError extends NixnodeError {
  readonly exitCode = 130;
  readonly kind = "cancelled";
  constructor(message = "Cancelled. Nothing was changed on the target.", opts: ErrorDetails = {}) {
    super(message, opts);
  }
}

/** A bug or an impossible state. Exit 1 with a pointer to the log. */
export class InternalError extends NixnodeError {
  readonly exitCode = 1;
  readonly kind = "internal";
}

// instanceof is enough: the published build keeps this module once, in a chunk the shell and the
// commands share (scripts/build.mjs; test/unit/package.test.ts checks it)
export function isNixnodeError(e: unknown): e is NixnodeError {
  return e instanceof NixnodeError;
}

/** True for a CancelledError (Ctrl-C, a declined confirmation). */
export function isCancelled(e: unknown): boolean {
  return isNixnodeError(e) && e.kind === "cancelled";
}

/** Shorthand for the most common user error: a named field with a fix. */
export function badField(field: string, message: string, hint?: string): UserError {
  return new UserError(`${field}: ${message}`, { field, hint });
}
