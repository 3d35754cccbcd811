// A locked-down NixOS-personality target (the lockdown lab, run to port 2222) and `switch` run
// in-process against it with the real SSH layer; the operator edits host.json in between.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { locateFlakeHost } from "../../../src/lockdown/flake-files";
import { keyOnlyConnector } from "../../../src/lockdown/ssh-connector";
import type { HostData } from "../../../src/plan/types";
import { connectSsh } from "../../../src/remote/ssh-target";
import { proveKeyLogin } from "../../../src/switch/prove-key";
import { runSwitch, type SwitchDeps, type SwitchResult } from "../../../src/switch/run-switch";
import { memoryLog } from "../../../src/ui/log";
import { createOutput } from "../../../src/ui/output";
import { NEW_PORT, lockdown, startLab, type Lab } from "../lockdown/fixture";

export async function lockedDownLab(): Promise<Lab> {
  const lab = await startLab();
  const r = await lockdown(lab);
  if (r.error) {
    await lab.stop();
    throw r.error;
  }
  return lab;
}

export function editHost(lab: Lab, edit: (h: HostData) => void): void {
  const h = JSON.parse(readFileSync(lab.hostJsonPath, "utf8")) as HostData;
  edit(h);
  writeFileSync(lab.hostJsonPath, JSON.stringify(h, null, 2) + "\n");
}

export interface SwitchRun {
  result?: SwitchResult;
  error?: Error & { exitCode?: number; details?: string[] };
  output: string;
}

export async function runSwitchOn(
  lab: Lab,
  extra: Partial<SwitchDeps> & { via?: number; route?: (p: number) => { host: string; port: number } } = {},
): Promise<SwitchRun> {
  const stream = new PassThrough();
  let output = "";
  stream.on("data", (d: Buffer) => (output += d));
  const out = createOutput({ stdout: stream, stderr: stream, json: false, env: { NO_COLOR: "1" }, stdinIsTTY: false });
  const via = extra.via ?? NEW_PORT;
  // a test that passes its own session (already connected) keeps it: the caller closes it
  const primary =
    extra.primary ??
    (await connectSsh({
      host: lab.t.address,
      port: via,
      identityFiles: [lab.key.privatePath],
      pinnedHostKey: lab.fingerprint,
    }));
  const run: SwitchRun = { output: "" };
  try {
    run.result = await runSwitch({
      primary,
      currentPort: via,
      connector: keyOnlyConnector({
        base: {
          host: lab.t.address,
          user: "root",
          identityFiles: (extra.operatorKeys ?? [{ privatePath: lab.key.privatePath }]).map((k) => k.privatePath),
        },
        pinnedHostKey: lab.fingerprint,
        route: extra.route,
      }),
      flake: locateFlakeHost(lab.flake),
      pinned: lab.fingerprint,
      operatorKeys: [{ publicKey: lab.key.publicKey, privatePath: lab.key.privatePath }],
      proveKeyLogin: (privatePath, port) =>
        proveKeyLogin({ host: lab.t.address, user: "root" }, lab.fingerprint, privatePath, port, () => undefined),
      confirmTimeoutSec: 8,
      dryRun: false,
      knownHostsFile: join(lab.work, "known_hosts"),
      out,
      log: memoryLog(),
      ...extra,
    });
  } catch (e) {
    run.error = e as SwitchRun["error"];
  } finally {
    if (!extra.primary) await primary.close().catch(() => undefined);
  }
  run.output = output;
  return run;
}
