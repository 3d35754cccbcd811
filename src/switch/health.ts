// Health beyond SSH (issue 13): after a switch is confirmed over a new login and before it is
// acknowledged, ask the node in ONE round trip whether the switch broke something. Units failed
// before the switch are reported, never blamed; a unit failed now and not before rolls back; each
// check host.json declares (health.checks) runs with its own timeout, all at once, on the target.
// Every value from host.json reaches the remote shell through shellQuote, after host-file.ts
// validated it.
import type { HealthCheck, HealthVerdict } from "../lockdown/supervised-stage";
import type { HealthCheckSpec, HostData } from "../plan/types";
import { shellQuote } from "../util/shell-quote";

export type { HealthCheck, HealthVerdict };

/** How long the node may report "starting"/"initializing" before the verdict is taken anyway. */
export const STARTING_WAIT_SEC = 20;
export const DEFAULT_CHECK_TIMEOUT_SEC = 10;

const RESULT = "nixnode-health";

/** The label a check is reported under: its name, else what it checks. */
export function checkLabel(c: HealthCheckSpec): string {
  if (c.name) return c.name;
  switch (c.kind) {
    case "tcp":
      return `tcp ${hostPort(c.address, c.port)}`;
    case "unit":
      return `unit ${unitName(c.unit)}`;
    case "interface":
      return `interface ${c.interface}`;
    case "http":
      return `http ${c.url}`;
  }
}

/** What the check expects, in words (for the rollback message). */
function expectation(c: HealthCheckSpec): string {
  switch (c.kind) {
    case "tcp":
      return `something listening on ${hostPort(c.address, c.port)}`;
    case "unit":
      return `${unitName(c.unit)} active`;
    case "interface":
      return `interface ${c.interface} up`;
    case "http":
      return `HTTP ${c.status} from ${c.url}`;
  }
}

const hostPort = (a: string, p: number) => (a.includes(":") ? `[${a}]:${p}` : `${a}:${p}`);
const unitName = (u: string) => (/\.[a-z]+$/.test(u) ? u : `${u}.service`);
export const timeoutOf = (c: HealthCheckSpec) => c.timeoutSec ?? DEFAULT_CHECK_TIMEOUT_SEC;

// A listener matches the address asked for, or a wildcard that covers it (0.0.0.0 covers IPv4,
// :: and * cover both: Linux's dual-stack default). $4 of `ss -Hltn` is "Local Address:Port".
const LISTEN_AWK =
  `BEGIN{r=1} {n=split($4,x,":"); pt=x[n]; h=substr($4,1,length($4)-length(pt)-1); gsub(/^\\[|\\]$/,"",h); sub(/%.*/,"",h);` +
  ` if (pt==p && (h==a || h=="*" || h=="::" || (v4 && h=="0.0.0.0"))) r=0} END{exit r}`;
const SEEN_AWK = `{n=split($4,x,":"); if (x[n]==p) s=s (s?" ":"") $4} END{print s}`;

/** The probe (exit 0 = healthy) and what to report when it never passed, for one check. */
function probeOf(c: HealthCheckSpec): { probe: string; seen: string } {
  switch (c.kind) {
    case "tcp": {
      const a = shellQuote(c.address);
      const p = shellQuote(String(c.port));
      const v4 = c.address.includes(":") ? "0" : "1";
      return {
        probe:
          `if command -v ss >/dev/null 2>&1; then ss -Hltn 2>/dev/null | awk -v a=${a} -v p=${p} -v v4=${v4} ${shellQuote(LISTEN_AWK)}; ` +
          `else timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ ${a} ${p} 2>/dev/null; fi`,
        seen:
          `l=$(ss -Hltn 2>/dev/null | awk -v p=${p} ${shellQuote(SEEN_AWK)}); ` +
          `if [ -n "$l" ]; then printf 'port %s listens only on %s\\n' ${p} "$l"; else printf 'nothing listens on port %s\\n' ${p}; fi`,
      };
    }
    case "unit": {
      const u = shellQuote(unitName(c.unit));
      return {
        probe: `systemctl is-active --quiet -- ${u}`,
        seen: `printf '%s is %s\\n' ${u} "$(systemctl is-active -- ${u} 2>/dev/null | head -n1)"`,
      };
    }
    case "interface": {
      const i = shellQuote(c.interface);
      return {
        probe: `ip -o link show dev ${i} 2>/dev/null | grep -q '[<,]UP[,>]'`,
        seen:
          `l=$(ip -o link show dev ${i} 2>/dev/null | head -n1); ` +
          `if [ -z "$l" ]; then printf 'no interface %s\\n' ${i}; else printf '%s is down (%s)\\n' ${i} "$(echo "$l" | grep -o '<[^>]*>')"; fi`,
      };
    }
    case "http": {
      const u = new URL(c.url);
      const host = u.hostname.replace(/^\[|\]$/g, "");
      const port = u.port || "80";
      const path = (u.pathname || "/") + u.search;
      const req = `timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n" "$3" "$1" >&3 && head -n1 <&3' _ ${shellQuote(host)} ${shellQuote(port)} ${shellQuote(path)} 2>/dev/null | tr -d '\\r'`;
      return {
        probe: `${req} | grep -Eq ${shellQuote(`^HTTP/[0-9.]+ ${c.status}( |$)`)}`,
        seen: `l=$(${req}); echo "\${l:-no HTTP answer}"`,
      };
    }
  }
}

/**
 * The one remote script: wait (bounded) while systemd is starting, run every check in parallel
 * until it passes or its own timeout ends, then read the state and the failed units (after the
 * checks, so a unit that died meanwhile is seen).
 */
export function healthScript(checks: HealthCheckSpec[]): string {
  const lines = [
    // bounded by the clock, not by a count of tries: each systemctl call takes time too
    `t0=$(date +%s); w=0; s=$(systemctl is-system-running 2>/dev/null)`,
    `while { [ "$s" = starting ] || [ "$s" = initializing ]; } && [ "$w" -lt ${STARTING_WAIT_SEC} ]; do sleep 1; w=$(( $(date +%s) - t0 )); s=$(systemctl is-system-running 2>/dev/null); done`,
    `echo "${RESULT}.waited=$w"`,
  ];
  checks.forEach((c, i) => {
    const { probe, seen } = probeOf(c);
    const t = timeoutOf(c);
    lines.push(
      `( st=$(date +%s); while :; do if ${probe}; then echo "${RESULT}.check.${i}=ok $(( $(date +%s) - st ))"; break; fi; ` +
        `if [ $(( $(date +%s) - st )) -ge ${t} ]; then echo "${RESULT}.check.${i}=fail $( ${seen} )"; break; fi; sleep 0.5; done ) &`,
    );
  });
  lines.push(
    `wait`,
    `echo "${RESULT}.state=$(systemctl is-system-running 2>/dev/null)"`,
    `systemctl list-units --state=failed --no-legend --plain 2>/dev/null | awk '{print "${RESULT}.failed=" $1}'`,
  );
  return lines.join("\n");
}

export interface HealthReport {
  state: string;
  waitedSec: number;
  failed: string[];
  checks: Array<{ ok: boolean; text: string } | null>;
}

/** Reads the script's output; a check with no line (the round trip ended early) is null. */
export function parseHealthOutput(text: string, checkCount: number): HealthReport {
  const report: HealthReport = { state: "", waitedSec: 0, failed: [], checks: Array(checkCount).fill(null) };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[\x00-\x1f\x7f]/g, "").trimEnd(); // target text is shown, never trusted
    if (!line.startsWith(`${RESULT}.`)) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(RESULT.length + 1, eq);
    const value = line.slice(eq + 1).trim();
    if (key === "state") report.state = value;
    else if (key === "waited") report.waitedSec = Number(value) || 0;
    else if (key === "failed") {
      // `systemctl list-units --plain` can still prefix a failed unit with a bullet
      const unit = value.replace(/^[●*]\s*/, "").split(/\s+/)[0] ?? "";
      if (unit && !report.failed.includes(unit)) report.failed.push(unit);
    } else {
      const m = /^check\.(\d+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      if (i < 0 || i >= checkCount) continue;
      const ok = value === "ok" || value.startsWith("ok ");
      report.checks[i] = { ok, text: value.replace(/^(ok|fail)\s*/, "").slice(0, 300) };
    }
  }
  return report;
}

/** The verdict from what the node reported (pure: the unit tests feed it directly). */
export function judgeHealth(
  report: HealthReport,
  checks: HealthCheckSpec[],
  ctx: { failedBefore: string[] },
  opts: { keepOnFailedChecks: boolean },
): HealthVerdict {
  const details: string[] = [];
  const warnings: string[] = [];
  const problems: string[] = [];
  const before = new Set(ctx.failedBefore);
  const newlyFailed = report.failed.filter((u) => !before.has(u));
  const stillFailed = report.failed.filter((u) => before.has(u));
  if (stillFailed.length)
    warnings.push(`units failed before the switch and still failed (not blamed on it): ${stillFailed.join(", ")}`);
  if (newlyFailed.length) problems.push(`units failed after the switch (fine before it): ${newlyFailed.join(", ")}`);
  const state = report.state || "unknown";
  if (state === "starting" || state === "initializing")
    warnings.push(`systemd still reports "${state}" after ${report.waitedSec} s; judged by the failed units so far`);
  else if (state === "stopping" || state === "maintenance")
    problems.push(`systemctl is-system-running says "${state}"`);
  else if (state === "degraded" && !newlyFailed.length && !stillFailed.length)
    warnings.push(`systemctl is-system-running says "degraded" but no unit is listed as failed`);
  else if (state === "unknown" || state === "offline")
    warnings.push(`systemctl is-system-running says "${state}": the system state could not be judged`);
  details.push(`system state: ${state}${report.waitedSec ? ` (after waiting ${report.waitedSec} s)` : ""}`);
  if (report.failed.length) details.push(`failed units: ${report.failed.join(", ")}`);

  const failedChecks: string[] = [];
  checks.forEach((c, i) => {
    const r = report.checks[i];
    const label = checkLabel(c);
    if (r?.ok) {
      details.push(`check "${label}": ok`);
      return;
    }
    const seen = r ? r.text || "no detail" : "no answer from the target";
    const line = `check "${label}" (${c.kind}) failed within its ${timeoutOf(c)} s timeout: expected ${expectation(c)}, saw: ${seen}`;
    details.push(line);
    failedChecks.push(line);
  });
  if (failedChecks.length) {
    if (opts.keepOnFailedChecks) warnings.push(...failedChecks.map((l) => `${l} (kept: --keep-on-failed-checks)`));
    else problems.push(...failedChecks);
  }
  if (problems.length)
    return { ok: false, observed: `the health check failed: ${problems.join("; ")}`, details, warnings };
  return {
    ok: true,
    observed: `healthy: ${state}${checks.length ? `, ${checks.length - failedChecks.length}/${checks.length} checks passed` : ""}`,
    details,
    warnings,
  };
}

/**
 * The checks get 40% of the confirmation window (src/lockdown/supervised-stage.ts); when the longest
 * declared check plus the bounded wait for a system still starting cannot fit there, the operator is
 * told before activation which --confirm-timeout always fits, instead of meeting an unnamed timeout.
 */
export function healthWindowWarning(host: HostData, confirmTimeoutSec: number): string | null {
  const checks = host.health?.checks ?? [];
  if (!checks.length) return null;
  const longest = Math.max(...checks.map(timeoutOf));
  const need = STARTING_WAIT_SEC + longest;
  const share = Math.floor(confirmTimeoutSec * 0.4);
  if (need <= share) return null;
  return (
    `the health checks may need up to ${need} s (${STARTING_WAIT_SEC} s while the system is still starting, then the longest check's ${longest} s) ` +
    `but a ${confirmTimeoutSec} s window leaves them ${share} s; a check cut off there rolls the switch back without its name. ` +
    `--confirm-timeout ${Math.ceil(need / 0.4)} or more always fits`
  );
}

/** The HealthCheck the switch runs over its confirmation session, for host.json's declared checks. */
export function healthCheckFor(
  host: HostData,
  opts: { keepOnFailedChecks: boolean; log(l: string): void },
): HealthCheck {
  const checks = host.health?.checks ?? [];
  return async (session, ctx) => {
    const maxCheck = Math.max(0, ...checks.map(timeoutOf));
    const timeoutMs = (STARTING_WAIT_SEC + maxCheck + 15) * 1000;
    opts.log(
      `health (${ctx.stage}): ${checks.length} declared check(s), failed before: ${ctx.failedBefore.join(", ") || "none"}`,
    );
    let out: { code: number | null; stdout: string; stderr: string };
    try {
      out = await session.run(healthScript(checks), { timeoutMs });
    } catch (e) {
      return {
        ok: false,
        observed: `the health check could not run on the target: ${(e as Error).message}`,
        details: [],
        warnings: [],
      };
    }
    opts.log(`health output:\n${out.stdout}${out.stderr ? `\nstderr: ${out.stderr}` : ""}`);
    const report = parseHealthOutput(out.stdout, checks.length);
    if (!report.state && out.code === null)
      return {
        ok: false,
        observed: "the health check got no answer from the target (the connection ended)",
        details: [out.stderr.trim()].filter(Boolean),
        warnings: [],
      };
    return judgeHealth(report, checks, ctx, opts);
  };
}
