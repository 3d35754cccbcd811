// time.timeZone must name a file in the tz database: NixOS links /etc/localtime to it, and a name
// that does not exist (Europe/Berln) is accepted by Nix but leaves the machine on UTC with a failed
// unit. Node's ICU carries the same database, so the check needs nothing from the target.
import { badField } from "../errors";
import { describe, editDistance } from "../util/fields";

let zones: string[] | null = null;
function knownZones(): string[] {
  zones ??= [...Intl.supportedValuesOf("timeZone"), "UTC"];
  return zones;
}

/** Accepted by ICU under exactly this spelling (covers aliases such as Etc/UTC that the list omits). */
function icuAccepts(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function nearest(name: string): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const z of knownZones()) {
    const d = editDistance(z.toLowerCase(), lower);
    if (d < bestDistance) [best, bestDistance] = [z, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : null;
}

export function parseTimezone(v: unknown, field = "timezone"): string {
  if (typeof v !== "string" || v.trim() === "")
    throw badField(
      field,
      `${describe(v)} is not a time zone`,
      'write a name such as "UTC" or "Europe/Berlin", in quotes',
    );
  const known = knownZones();
  if (known.includes(v)) return v;
  // the zone file names are case-sensitive on the target even where ICU is not
  const sameLetters = known.find((z) => z.toLowerCase() === v.toLowerCase());
  if (!sameLetters && /^[A-Za-z]+(\/[A-Za-z0-9_+-]+){1,2}$/.test(v) && icuAccepts(v)) return v;
  const near = sameLetters ?? nearest(v);
  throw badField(
    field,
    `${describe(v)} is not a time zone in the tz database`,
    near
      ? `did you mean "${near}"?`
      : 'use a name from the tz database such as "Europe/Berlin" (timedatectl list-timezones), or "UTC"',
  );
}
