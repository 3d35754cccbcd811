// The I/O half of verification: one command on the verifying session, judged by verify-installed.ts;
// and the opt-in copy of the flake to /etc/nixos so the machine can rebuild itself.
import type { FlakeInfo, InstallSession } from "./types";
import { tarFlake } from "./engine-builtin";
import { OperationError } from "../errors";
import { VERIFY_COMMAND, judgeInstalledSystem, parseVerifyOutput, type VerifyVerdict } from "./verify-installed";

export async function verifyInstalled(
  session: InstallSession,
  flake: FlakeInfo,
  bootIdBefore: string | null,
): Promise<VerifyVerdict & { bootId: string }> {
  const r = await session.run(VERIFY_COMMAND, { timeoutMs: 30_000 });
  const o = parseVerifyOutput(r.stdout);
  const addresses = (flake.host.network?.interfaces ?? []).flatMap((i) => i.addresses);
  const verdict = judgeInstalledSystem(o, {
    hostname: flake.host.hostname,
    release: flake.host.stateVersion,
    bootIdBefore,
    addresses,
  });
  return { ...verdict, bootId: o.bootId };
}

export async function copyFlakeToEtc(session: InstallSession, flakeDir: string): Promise<void> {
  await session.upload("/root/nixnode-flake-etc.tar", tarFlake(flakeDir), 0o600);
  const r = await session.run(
    "mkdir -p /etc/nixos && tar -xf /root/nixnode-flake-etc.tar -C /etc/nixos && rm -f /root/nixnode-flake-etc.tar",
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new OperationError(`copying the flake to /etc/nixos failed: ${r.stderr.trim()}`);
}
