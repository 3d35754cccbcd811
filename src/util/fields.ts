// Small runtime checks for JSON input (config files, facts files). Each failure names the field
// path exactly as the user would find it in their file, and says what would be accepted.
import { describeValue } from "./secret-kind";
import { badField } from "../errors";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (typeof v === "string") return describeValue(v); // a pasted key or identity is named, never echoed
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, field: string): Record<string, unknown> {
  if (!isObject(v)) throw badField(field, `${describe(v)} is not an object`, `write ${field} as { ... }`);
  return v;
}

export function str(
  v: unknown,
  field: string,
  opts: { nonEmpty?: boolean; pattern?: RegExp; what?: string } = {},
): string {
  if (typeof v !== "string") throw badField(field, `${describe(v)} is not a string`);
  if (opts.nonEmpty && v.trim() === "") throw badField(field, "must not be empty");
  if (opts.pattern && !opts.pattern.test(v))
    throw badField(field, `${describe(v)} is not ${opts.what ?? `of the form ${opts.pattern}`}`);
  return v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") throw badField(field, `${describe(v)} is not true or false`);
  return v;
}

export function int(v: unknown, field: string, min: number, max: number, what = "a whole number"): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw badField(field, `${describe(v)} is not ${what} (${min}-${max})`);
  }
  return v;
}

export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw badField(field, `${describe(v)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  }
  return v as T;
}

export function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw badField(field, `${describe(v)} is not a list`, `write ${field} as [ ... ]`);
  return v;
}

/** Rejects keys the schema does not know, with a "did you mean" for near misses. */
export function noUnknownKeys(o: Record<string, unknown>, field: string, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k) || k === "$schema") continue;
    const near = known.find((n) => editDistance(n.toLowerCase(), k.toLowerCase()) <= 2);
    const where = field ? `${field}.${k}` : k;
    throw badField(
      where,
      "is not a known setting",
      near ? `did you mean ${field ? `${field}.` : ""}${near}?` : `known: ${known.join(", ")}`,
    );
  }
}

/** Parses a TCP port the way a person types it: "2222" or 2222; rejects "833w", 0, 70000. */
export function port(v: unknown, field: string): number {
  const n = typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw badField(
      field,
      `${describe(v)} is not a port number (1-65535)`,
      "write a whole number from 1 to 65535, e.g. 2222",
    );
  }
  return n;
}

/**
 * The port sshd moves to at lockdown: a port, and not 22, which stays open only until the new port
 * is proven (LOCKDOWN.md); "moving" to 22 would leave nothing to prove and nothing to close.
 */
export function lockdownPort(v: unknown, field: string): number {
  const n = port(v, field);
  if (n === 22)
    throw badField(
      field,
      "22 is the port lockdown moves away from",
      "choose another port for SSH after lockdown, e.g. 2222",
    );
  return n;
}

export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}
