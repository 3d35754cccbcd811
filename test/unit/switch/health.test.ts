// The health check after a switch (src/switch/health.ts): its ONE remote script runs here in a
// real POSIX sh against real listeners (tcp, http), the real `lo` interface and a stand-in
// systemctl whose answers the test sets; the verdict rules (failed before vs. now, "starting",
// timeouts, --keep-on-failed-checks) are checked on what the script reported.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RemoteSession } from "../../../src/lockdown/types";
import type { HealthCheckSpec, HostData } from "../../../src/plan/types";
import {
  healthCheckFor,
  healthWindowWarning,
  judgeHealth,
  parseHealthOutput,
  type HealthVerdict,
} from "../../../src/switch/health";
import { validHost } from "../flake/host-json-cases";

let dir = "";
let runs = 0;

/** A "remote" session that is this machine's sh, with the stand-in systemctl first on PATH. */
const session: RemoteSession = {
  run(command, opts) {
    runs++;
    return new Promise((resolve) => {
      const p = spawn("sh", ["-c", command], { env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` } });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d: Buffer) => (stdout += d));
      p.stderr.on("data", (d: Buffer) => (stderr += d));
      const timer = setTimeout(() => p.kill("SIGKILL"), opts?.timeoutMs ?? 60_000);
      p.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  },
  upload: async () => undefined,
  close: async () => undefined,
};

/** What the stand-in systemctl answers: the system state (after `starting` answers of "starting"), failed and unit states. */
function systemd(o: { state?: string; starting?: number; failed?: string[]; units?: Record<string, string> }) {
  writeFileSync(join(dir, "state"), `${o.state ?? "running"}\n`);
  writeFileSync(join(dir, "starting"), `${o.starting ?? 0}\n`);
  rmSync(join(dir, "calls"), { force: true });
  writeFileSync(join(dir, "failed"), (o.failed ?? []).map((u) => `${u}\n`).join(""));
  writeFileSync(
    join(dir, "units"),
    Object.entries(o.units ?? {})
      .map(([u, s]) => `${u} ${s}\n`)
      .join(""),
  );
}

const STUB = (d: string) => `#!/bin/sh
d='${d}'
verb=$1; shift
case "$verb" in
  is-system-running)
    n=$(cat "$d/calls" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$d/calls"
    if [ "$n" -le "$(cat "$d/starting")" ]; then echo starting; exit 1; fi
    cat "$d/state" ;;
  list-units) while read -r u; do [ -n "$u" ] && echo "$u loaded failed failed $u"; done < "$d/failed" ;;
  is-active)
    q=0; [ "$1" = --quiet ] && { q=1; shift; }; [ "$1" = -- ] && shift
    s=$(awk -v u="$1" '$1==u {print $2}' "$d/units"); s=\${s:-inactive}
    [ $q = 1 ] || echo "$s"; [ "$s" = active ] ;;
  *) echo "stub systemctl: $verb" >&2; exit 1 ;;
esac
`;

function host(checks: HealthCheckSpec[]): HostData {
  return { ...validHost(), health: { checks } };
}

async function verdict(
  checks: HealthCheckSpec[],
  failedBefore: string[] = [],
  keepOnFailedChecks = false,
): Promise<HealthVerdict> {
  return healthCheckFor(host(checks), { keepOnFailedChecks, log: () => undefined })(session, {
    failedBefore,
    stage: "switch",
  });
}

const servers: Server[] = [];
function listen(address = "127.0.0.1"): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer((c) => c.end());
    servers.push(s);
    s.listen(0, address, () => resolve((s.address() as { port: number }).port));
  });
}
/** A port nothing listens on (bound, read, closed). */
async function closedPort(): Promise<number> {
  const p = await listen();
  await new Promise((r) => servers.pop()!.close(r));
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nn-health-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "systemctl"), STUB(dir));
  chmodSync(join(bin, "systemctl"), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe("units: the switch is blamed only for what it broke", () => {
  it("running, nothing failed, no checks: ok, in one round trip", async () => {
    systemd({});
    runs = 0;
    const v = await verdict([]);
    expect(v.ok).toBe(true);
    expect(v.warnings).toEqual([]);
    expect(runs).toBe(1);
  });

  it("a unit failed now and not before: not ok, named", async () => {
    systemd({ state: "degraded", failed: ["nats.service"] });
    const v = await verdict([]);
    expect(v.ok).toBe(false);
    expect(v.observed).toMatch(/units failed after the switch \(fine before it\): nats\.service/);
  });

  it("a unit failed before the switch and still failed: ok, reported as a warning, not blamed", async () => {
    systemd({ state: "degraded", failed: ["old-cron.service"] });
    const v = await verdict([], ["old-cron.service"]);
    expect(v.ok).toBe(true);
    expect(v.warnings.join("\n")).toMatch(/failed before the switch and still failed \(not blamed on it\): old-cron/);
  });

  it("one old failure and one new: not ok, only the new one blamed", async () => {
    systemd({ state: "degraded", failed: ["old-cron.service", "bitcoind.service"] });
    const v = await verdict([], ["old-cron.service"]);
    expect(v.ok).toBe(false);
    expect(v.observed).toMatch(/: bitcoind\.service$/);
    expect(v.observed).not.toMatch(/old-cron/);
    expect(v.warnings.join("\n")).toMatch(/old-cron/);
  });

  it('"starting" twice, then "running": waits for it and judges the settled system', async () => {
    systemd({ starting: 2, state: "running" });
    const t0 = Date.now();
    const v = await verdict([]);
    expect(v.ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(v.details.join("\n")).toMatch(/system state: running \(after waiting [23] s\)/);
  });

  it('still "starting" after the bound: judged by the failed units, with a warning', () => {
    const report = { state: "starting", waitedSec: 20, failed: [], checks: [] };
    const v = judgeHealth(report, [], { failedBefore: [] }, { keepOnFailedChecks: false });
    expect(v.ok).toBe(true);
    expect(v.warnings.join()).toMatch(/still reports "starting" after 20 s/);
    const v2 = judgeHealth(
      { ...report, failed: ["x.service"] },
      [],
      { failedBefore: [] },
      { keepOnFailedChecks: false },
    );
    expect(v2.ok).toBe(false);
  });

  it('"stopping" or "maintenance" is not healthy', () => {
    for (const state of ["stopping", "maintenance"]) {
      const v = judgeHealth(
        { state, waitedSec: 0, failed: [], checks: [] },
        [],
        { failedBefore: [] },
        { keepOnFailedChecks: false },
      );
      expect(v.ok, state).toBe(false);
      expect(v.observed).toContain(state);
    }
  });
});

describe("declared checks, each with its own timeout, all in the same round trip", () => {
  it("tcp: a real listener on 127.0.0.1 passes; a port nothing listens on fails naming check, what was seen and the timeout", async () => {
    systemd({});
    const up = await listen();
    const down = await closedPort();
    const v = await verdict([
      { kind: "tcp", name: "NATS", address: "127.0.0.1", port: up, timeoutSec: 1 },
      { kind: "tcp", name: "bitcoind RPC", address: "127.0.0.1", port: down, timeoutSec: 1 },
    ]);
    expect(v.ok).toBe(false);
    expect(v.observed).toMatch(
      new RegExp(
        `check "bitcoind RPC" \\(tcp\\) failed within its 1 s timeout: expected something listening on 127\\.0\\.0\\.1:${down}, saw: nothing listens on port ${down}`,
      ),
    );
    expect(v.observed).not.toMatch(/"NATS"/);
    expect(v.details).toContain('check "NATS": ok');
  });

  it("tcp: a listener on another address only is not enough (and says where it listens)", async () => {
    systemd({});
    const p = await listen("127.0.0.2");
    const v = await verdict([{ kind: "tcp", address: "127.0.0.1", port: p, timeoutSec: 1 }]);
    expect(v.ok).toBe(false);
    expect(v.observed).toContain(`port ${p} listens only on 127.0.0.2:${p}`);
    expect(v.observed).toContain(`check "tcp 127.0.0.1:${p}"`);
  });

  it("tcp: a port that starts listening within the timeout passes", async () => {
    systemd({});
    const p = await closedPort();
    setTimeout(() => {
      const s = createServer((c) => c.end());
      servers.push(s);
      s.listen(p, "127.0.0.1");
    }, 1200);
    const v = await verdict([{ kind: "tcp", address: "127.0.0.1", port: p, timeoutSec: 8 }]);
    expect(v.ok).toBe(true);
  });

  it("timeouts run in parallel: three failing checks of 4 s each end well before the 12 s they would take one after the other", async () => {
    systemd({});
    const a = await closedPort();
    const b = await closedPort();
    const t0 = Date.now();
    runs = 0;
    const v = await verdict([
      { kind: "tcp", address: "127.0.0.1", port: a, timeoutSec: 4 },
      { kind: "tcp", address: "127.0.0.1", port: b, timeoutSec: 4 },
      { kind: "interface", interface: "nonexist0", timeoutSec: 4 },
    ]);
    const took = Date.now() - t0;
    expect(v.ok).toBe(false);
    // each check waits its own 4 s; in sequence that is 12 s, so anything under 10 s proves they
    // overlapped, with room for a loaded machine's slow start (a functional bound, not a speed claim)
    // the script's deadlines count whole seconds (date +%s): a 4 s timeout ends after 3 to 4 s
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(10_000);
    expect(runs).toBe(1);
    expect(v.observed).toMatch(
      /check "interface nonexist0" \(interface\) failed within its 4 s timeout: .*saw: no interface nonexist0/,
    );
  });

  it("interface: lo is up", async () => {
    systemd({});
    expect((await verdict([{ kind: "interface", interface: "lo", timeoutSec: 1 }])).ok).toBe(true);
  });

  it("unit: active passes; failed is reported with the state systemctl gave", async () => {
    systemd({ units: { "nats.service": "active", "bitcoind.service": "failed" } });
    expect((await verdict([{ kind: "unit", unit: "nats", timeoutSec: 1 }])).ok).toBe(true);
    const v = await verdict([{ kind: "unit", name: "bitcoind", unit: "bitcoind.service", timeoutSec: 1 }]);
    expect(v.ok).toBe(false);
    expect(v.observed).toMatch(
      /check "bitcoind" \(unit\) failed within its 1 s timeout: expected bitcoind\.service active, saw: bitcoind\.service is failed/,
    );
  });

  it("http: a real local server's status is compared with the one declared", async () => {
    systemd({});
    const srv = createHttpServer((req, res) => {
      res.statusCode = req.url === "/health?full=1" ? 200 : 404;
      res.end("x");
    });
    servers.push(srv as unknown as Server);
    const port = await new Promise<number>((r) =>
      srv.listen(0, "127.0.0.1", () => r((srv.address() as { port: number }).port)),
    );
    expect(
      (await verdict([{ kind: "http", url: `http://127.0.0.1:${port}/health?full=1`, status: 200, timeoutSec: 2 }])).ok,
    ).toBe(true);
    const v = await verdict([{ kind: "http", url: `http://127.0.0.1:${port}/other`, status: 200, timeoutSec: 1 }]);
    expect(v.ok).toBe(false);
    expect(v.observed).toMatch(/saw: HTTP\/1\.1 404/);
  });

  it("--keep-on-failed-checks: a failing check is a warning and the verdict ok; a unit the switch broke still is not", async () => {
    systemd({});
    const down = await closedPort();
    const check: HealthCheckSpec = { kind: "tcp", name: "NATS", address: "127.0.0.1", port: down, timeoutSec: 1 };
    const v = await verdict([check], [], true);
    expect(v.ok).toBe(true);
    expect(v.warnings.join("\n")).toMatch(
      /check "NATS" \(tcp\) failed within its 1 s timeout.*\(kept: --keep-on-failed-checks\)/,
    );
    systemd({ state: "degraded", failed: ["nats.service"] });
    expect((await verdict([check], [], true)).ok).toBe(false);
  });

  it("a value that would be a command if it reached the shell unquoted never runs (quoting is the script's, not only the validator's)", async () => {
    systemd({});
    const marker = join(dir, "pwned");
    const evil = [
      { kind: "unit", unit: `x'; touch ${marker}; '` },
      { kind: "interface", interface: `$(touch ${marker})` },
      { kind: "tcp", address: `127.0.0.1$(touch ${marker})`, port: 1 },
      { kind: "http", url: `http://127.0.0.1:1/\`touch ${marker}\``, status: 200 },
    ] as HealthCheckSpec[];
    for (const c of evil) c.timeoutSec = 1;
    const v = await verdict(evil);
    expect(v.ok).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("parsing what the target printed", () => {
  it("reads state, waited, failed units (with or without a bullet) and checks; ignores other lines and control characters", () => {
    const r = parseHealthOutput(
      [
        "motd noise",
        "nixnode-health.waited=3",
        "nixnode-health.check.1=fail nothing listens on port 4222\x1b[31m",
        "nixnode-health.check.0=ok 0",
        "nixnode-health.check.7=ok 0",
        "nixnode-health.state=degraded",
        "nixnode-health.failed=● nats.service",
        "nixnode-health.failed=bitcoind.service",
      ].join("\n"),
      3,
    );
    expect(r).toEqual({
      state: "degraded",
      waitedSec: 3,
      failed: ["nats.service", "bitcoind.service"],
      checks: [{ ok: true, text: "0" }, { ok: false, text: "nothing listens on port 4222[31m" }, null],
    });
  });

  it("a check the target never answered for is a failure saying so", () => {
    const checks: HealthCheckSpec[] = [{ kind: "interface", interface: "wg-fleet" }];
    const v = judgeHealth(
      parseHealthOutput("nixnode-health.state=running\n", 1),
      checks,
      { failedBefore: [] },
      { keepOnFailedChecks: false },
    );
    expect(v.ok).toBe(false);
    expect(v.observed).toMatch(
      /check "interface wg-fleet" \(interface\) failed within its 10 s timeout: expected interface wg-fleet up, saw: no answer from the target/,
    );
  });

  it("a session that dies mid-check is not healthy", async () => {
    const dead: RemoteSession = {
      ...session,
      run: async () => ({ code: null, stdout: "", stderr: "Connection reset" }),
    };
    const v = await healthCheckFor(host([]), { keepOnFailedChecks: false, log: () => undefined })(dead, {
      failedBefore: [],
      stage: "switch",
    });
    expect(v.ok).toBe(false);
    expect(v.observed).toMatch(/no answer from the target/);
  });
});

describe("the window holds the checks", () => {
  const withChecks = (checks: HealthCheckSpec[]): HostData => ({ ...validHost(), health: { checks } });
  it("the default 120 s window holds the profiles' longest check (20 s) and the 20 s start wait: no warning", () => {
    expect(
      healthWindowWarning(withChecks([{ kind: "tcp", address: "127.0.0.1", port: 8332, timeoutSec: 20 }]), 120),
    ).toBeNull();
    expect(healthWindowWarning(withChecks([]), 10)).toBeNull();
  });
  it("a 60 s window cannot hold a 60 s check: the warning says which --confirm-timeout always fits", () => {
    const w = healthWindowWarning(withChecks([{ kind: "unit", unit: "bitcoind", timeoutSec: 60 }]), 60);
    expect(w).toMatch(/up to 80 s .* leaves them 24 s/);
    expect(w).toMatch(/--confirm-timeout 200 or more/);
  });
});
