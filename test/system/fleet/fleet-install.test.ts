// `fleet install` against FIVE throwaway targets at once (nixos-anywhere stand-in, real sshd, real
// lockdown). One target's new SSH port is blocked by its "provider": the other four finish and are
// locked down, that one rolls back and is reported in the table and the exit code. A re-run with
// the port open finishes only that one; the others get no new login at all.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLockdownState } from "../../../src/lockdown/hand-off";
import { targetsSupported } from "../../targets/index";
import { fleetFixture, NEW_PORT, strictSsh, type FleetFixture } from "./fleet-fixture";

const run = promisify(execFile);
const supported = targetsSupported();
const BLOCKED = "node4";

interface Row {
  host: string;
  status: string;
  fingerprint: string | null;
  sshPort: number | null;
  message: string;
  fix: string | null;
}

function table(r: { events: Array<Record<string, unknown>> }): Row[] {
  const result = r.events.find((e) => e.type === "result") as { data: { hosts: Row[] } } | undefined;
  if (!result) throw new Error("no result event");
  return result.data.hosts;
}

const logins = async (f: FleetFixture, n: string) =>
  ((await f.targets[n]!.sshdLog()).match(/Accepted publickey/g) ?? []).length;

const hostJson = (f: FleetFixture, n: string) =>
  JSON.parse(readFileSync(join(f.flakeDir, "hosts", n, "host.json"), "utf8")) as {
    ssh: { hostKeyFingerprint: string; ports: number[] };
    lockdown: { stage: string };
  };

/** `n`'s own recovery notes in the shared README and its own lockdown state: its address and key. */
function expectOwnHandOff(f: FleetFixture, n: string): void {
  const fp = hostJson(f, n).ssh.hostKeyFingerprint;
  expect(readLockdownState(f.flakeDir, n), n).toMatchObject({
    host: n,
    stage: "final",
    port: NEW_PORT,
    hostKeyFingerprint: fp,
  });
  const readme = readFileSync(join(f.flakeDir, "README.md"), "utf8");
  const notes =
    new RegExp(
      `<!-- nixnode-install lockdown ${n}: begin -->([\\s\\S]*?)<!-- nixnode-install lockdown ${n}: end -->`,
    ).exec(readme)?.[1] ?? "";
  expect(notes, n).toContain(`ssh -p ${NEW_PORT} root@${f.targets[n]!.address}\n`);
  expect(notes, n).toContain(fp);
  for (const other of f.names.filter((o) => o !== n))
    expect(notes, n).not.toContain(hostJson(f, other).ssh.hostKeyFingerprint);
}

describe.skipIf(!supported.ok)(
  `fleet install, five targets ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    let f: FleetFixture;
    beforeAll(async () => {
      f = await fleetFixture(5);
    }, 300_000);
    afterAll(async () => {
      await f?.cleanup();
    });

    it("installs in parallel; the host whose new port is blocked rolls back alone; a re-run finishes only that one", async () => {
      expect(f.names).toEqual(["collector1", "node1", "node2", "node3", BLOCKED]);
      const ok = f.names.filter((n) => n !== BLOCKED);
      await f.targets[BLOCKED]!.faults.blockPort(NEW_PORT);
      // a window that five parallel lockdowns on a loaded 2-core CI machine can meet (10 s was missed once)
      const first = await f.install(["--confirm-timeout", "40"]);
      expect(first.code, first.stdout + first.stderr).toBe(3);

      // the runs overlapped: some host started its engine before another one's had ended
      const steps = first.events.filter((e) => e.type === "step") as Array<{
        host?: string;
        phase: string;
        status: string;
        time: number;
      }>;
      expect(steps.every((e) => typeof e.host === "string")).toBe(true);
      const kexecStart = ok.map((n) => steps.find((e) => e.host === n && e.phase === "kexec")!.time);
      const verifyDone = ok.map(
        (n) => steps.find((e) => e.host === n && e.phase === "verify" && e.status === "done")!.time,
      );
      expect(Math.max(...kexecStart)).toBeLessThan(Math.min(...verifyDone));

      const rows = table(first);
      expect(
        rows.map((r) => [r.host, r.status]),
        first.stdout + first.stderr,
      ).toEqual([
        ["collector1", "installed"],
        ["node1", "installed"],
        ["node2", "installed"],
        ["node3", "installed"],
        [BLOCKED, "failed"],
      ]);
      const failed = rows.find((r) => r.host === BLOCKED)!;
      expect(failed.message).toMatch(/rolled back|never answered/);
      expect(failed.fix).toMatch(/--hosts node4/);
      expect(failed.sshPort).toBe(22);

      for (const n of ok) {
        const t = f.targets[n]!;
        const row = rows.find((r) => r.host === n)!;
        expect(row.sshPort).toBe(NEW_PORT);
        expect(row.fingerprint).toBe(hostJson(f, n).ssh.hostKeyFingerprint);
        expect(hostJson(f, n).lockdown.stage).toBe("final");
        // key-only login on the new port, the pinned key checked strictly; 22 closed
        const login = await run("ssh", strictSsh(f, t, NEW_PORT, "hostname"));
        expect(login.stdout.trim()).toBe(n);
        await expect(run("ssh", strictSsh(f, t, 22, "true"))).rejects.toThrow();
      }
      // every locked-down host kept its own notes and state; the rolled-back one has none yet
      for (const n of ok) expectOwnHandOff(f, n);
      expect(readLockdownState(f.flakeDir, BLOCKED)).toBeNull();
      expect(readFileSync(join(f.flakeDir, "README.md"), "utf8")).not.toContain(`lockdown ${BLOCKED}: begin`);
      // the blocked one is installed, rolled back to port 22, and still reachable there with the key
      const blocked = f.targets[BLOCKED]!;
      expect(hostJson(f, BLOCKED).lockdown.stage).toBe("none");
      expect((await run("ssh", strictSsh(f, blocked, 22, "hostname"))).stdout.trim()).toBe(BLOCKED);

      // the re-run: the port is open now
      await blocked.faults.unblockPort(NEW_PORT);
      const before = Object.fromEntries(await Promise.all(ok.map(async (n) => [n, await logins(f, n)] as const)));
      const again = await f.install(["--confirm-timeout", "40"]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const rows2 = table(again);
      for (const n of ok)
        expect(rows2.find((r) => r.host === n)).toMatchObject({
          status: "skipped",
          message: "already installed and locked down",
          sshPort: NEW_PORT,
        });
      expect(rows2.find((r) => r.host === BLOCKED)).toMatchObject({ status: "installed", sshPort: NEW_PORT });
      // no new install on the finished hosts: not one login
      for (const n of ok) expect(await logins(f, n), n).toBe(before[n]);
      // the resumed host skipped the engine (it already ran the installed system) and is locked down
      expect(again.events.some((e) => e.host === BLOCKED && e.phase === "kexec")).toBe(false);
      expect((await run("ssh", strictSsh(f, blocked, NEW_PORT, "hostname"))).stdout.trim()).toBe(BLOCKED);
      await expect(run("ssh", strictSsh(f, blocked, 22, "true"))).rejects.toThrow();
      // the re-run added node4's notes and state without touching the other four's
      for (const n of f.names) expectOwnHandOff(f, n);
    }, 1_200_000);
  },
);
