// A second authenticated session opened before anything changes and kept until kexec: when the
// install fails before the target switched into the installer, it still answers (even if the
// failure broke new logins) and tells what the machine looks like: memory, the kernel's last words,
// the disks. Closed once kexec starts, because kexec ends every session anyway.
import type { Log } from "../ui/log";
import type { InstallSession } from "./types";

export const DIAGNOSTICS_COMMAND = [
  "echo '--- free -m'; free -m 2>&1",
  "echo '--- dmesg (last 15 lines)'; dmesg 2>&1 | tail -n 15",
  "echo '--- lsblk'; lsblk -o NAME,SIZE,TYPE,FSTYPE,MOUNTPOINT 2>&1",
].join("; ");

export interface FallbackSession {
  /** Free memory, dmesg tail and disk state, as lines; an explanation when the session is gone. */
  diagnostics(): Promise<string[]>;
  close(): Promise<void>;
}

export async function openFallbackSession(connect: () => Promise<InstallSession>, log: Log): Promise<FallbackSession> {
  const session = await connect();
  let closed = false;
  return {
    async diagnostics() {
      if (closed) return ["(the fallback session was already closed: kexec had started)"];
      try {
        const r = await session.run(DIAGNOSTICS_COMMAND, { timeoutMs: 15_000 });
        const lines = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
        log.write(`fallback diagnostics:\n${lines.join("\n")}`);
        return ["Diagnostics from the fallback session:", ...lines];
      } catch (e) {
        log.write(`fallback diagnostics failed: ${(e as Error).message}`);
        return [`(the fallback session could not run diagnostics: ${(e as Error).message})`];
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await session.close().catch((e: Error) => log.write(`closing the fallback session: ${e.message}`));
    },
  };
}
