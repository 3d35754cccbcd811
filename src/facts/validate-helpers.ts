// Building blocks for validateFacts beyond src/util/fields.ts: nullable values, closed sections,
// byte counts, IP addresses. Each failure names the field path.
import { badField } from "../errors";
import { describe, noUnknownKeys, obj, str } from "../util/fields";
import { isIpv4, isIpv6 } from "../util/ip";

/**
 * Device and interface names as the kernel reports them (sda, nvme0n1, enp1s0, eth0.100,
 * ubuntu--vg-root). Lenient on purpose: facts describe a real machine, and refusing a name the
 * kernel accepted would make detect fail on it. Only what can never be a name is refused.
 */
export const DEV_NAME = /^[^\s/]{1,255}$/;

export type Check<T> = (v: unknown, field: string) => T;

export function nullable<T>(v: unknown, field: string, check: Check<T>): T | null {
  if (v === null) return null;
  if (v === undefined) throw badField(field, "is missing", `write ${field}: null when the value is unknown`);
  return check(v, field);
}

export function section(v: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  const o = obj(v, field);
  noUnknownKeys(o, field, keys);
  return o;
}

/** Byte counts and other non-negative integers; JSON numbers are exact up to 2^53. */
export function count(v: unknown, field: string, what = "a whole number"): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw badField(field, `${describe(v)} is not ${what} (0 or more)`);
  return v;
}

export function unique(values: string[], fieldAt: (i: number) => string, what: string): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v))
      throw badField(fieldAt(i), `${JSON.stringify(v)} appears twice`, `each ${what} must be listed once`);
    seen.add(v);
  });
}

export function ip(v: unknown, field: string): string {
  const s = str(v, field);
  if (!isIpv4(s) && !isIpv6(s)) throw badField(field, `${describe(v)} is not an IPv4 or IPv6 address`);
  return s;
}

export function ipOf(family: 4 | 6, v: unknown, field: string): string {
  const s = str(v, field);
  if (family === 4 ? !isIpv4(s) : !isIpv6(s))
    throw badField(field, `${describe(v)} is not an IPv${family} address`, `the entry says family ${family}`);
  return s;
}
