// Verification of the installed system before success is reported: ONE command on the verifying
// session prints os-release, hostname, boot_id, systemd's state, failed units and addresses; a pure
// check compares them with the plan. Wrong OS / release / hostname or no reboot is a failure;
// degraded units and address differences are reported as warnings with what was seen.
export const VERIFY_COMMAND = [
  "echo @@os-release; cat /etc/os-release 2>&1",
  "echo @@hostname; hostname 2>&1",
  "echo @@boot-id; cat /proc/sys/kernel/random/boot_id 2>&1",
  "echo @@system-state; systemctl is-system-running 2>&1",
  "echo @@failed-units; systemctl --failed --no-legend --plain 2>&1 | head -n 20",
  "echo @@addresses; ip -o addr show 2>&1",
  "echo @@end",
].join("; ");

export function splitSections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur: string | null = null;
  for (const line of text.split("\n")) {
    const m = /^@@([a-z-]+)$/.exec(line.trim());
    if (m) {
      cur = m[1]!;
      out[cur] = "";
    } else if (cur) out[cur] += `${line}\n`;
  }
  return out;
}

export function parseOsRelease(text: string): Record<string, string> {
  const kv: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  return kv;
}

export interface InstalledExpectation {
  hostname: string;
  release: string;
  /** boot_id before the install: the same value means the machine never rebooted. */
  bootIdBefore: string | null;
  /** Planned static addresses (CIDR) that must be present. */
  addresses: string[];
}

export interface InstalledObservation {
  osId: string | null;
  versionId: string | null;
  prettyName: string | null;
  variantId: string | null;
  hostname: string;
  bootId: string;
  systemState: string;
  failedUnits: string[];
  addresses: string[];
}

export function parseVerifyOutput(text: string): InstalledObservation {
  const s = splitSections(text);
  const os = parseOsRelease(s["os-release"] ?? "");
  return {
    osId: os.ID ?? null,
    versionId: os.VERSION_ID ?? null,
    prettyName: os.PRETTY_NAME ?? null,
    variantId: os.VARIANT_ID ?? null,
    hostname: (s.hostname ?? "").trim(),
    bootId: (s["boot-id"] ?? "").trim(),
    systemState: (s["system-state"] ?? "").trim().split("\n")[0] ?? "",
    failedUnits: (s["failed-units"] ?? "")
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0] ?? "")
      .filter((u) => /\.(service|socket|mount|target|timer|path|device|swap|scope|slice)$/.test(u)),
    addresses: [...(s.addresses ?? "").matchAll(/\binet6? ([0-9a-fA-F:.]+\/\d+)/g)].map((m) => m[1]!),
  };
}

export interface VerifyVerdict {
  problems: string[];
  warnings: string[];
}

export function judgeInstalledSystem(o: InstalledObservation, e: InstalledExpectation): VerifyVerdict {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (o.osId !== "nixos") problems.push(`the OS is ${o.prettyName ?? o.osId ?? "unknown"}, not NixOS`);
  else if (o.variantId === "installer")
    problems.push("the target still runs the NixOS installer, not the installed system");
  else if (!o.versionId?.startsWith(e.release))
    problems.push(`NixOS ${o.versionId ?? "?"} runs, but ${e.release} was planned`);
  if (o.hostname !== e.hostname) problems.push(`the hostname is "${o.hostname}", but "${e.hostname}" was planned`);
  if (e.bootIdBefore && o.bootId === e.bootIdBefore)
    problems.push("the boot_id did not change: the machine never rebooted");
  if (o.systemState === "degraded")
    warnings.push(`systemd reports a degraded system; failed units: ${o.failedUnits.join(", ") || "(none listed)"}`);
  else if (o.systemState && !["running", "starting"].includes(o.systemState))
    warnings.push(`systemctl is-system-running says "${o.systemState}"`);
  const missing = e.addresses.filter((a) => !o.addresses.includes(a));
  if (missing.length)
    warnings.push(
      `planned addresses not present: ${missing.join(", ")} (present: ${o.addresses.join(", ") || "none"})`,
    );
  return { problems, warnings };
}
