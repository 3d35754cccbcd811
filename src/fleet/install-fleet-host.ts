// One host of `fleet install`: the SAME install (runInstall, src/install) and the SAME lockdown (the
// `lockdown` command, as `install` calls it) as a single-node run, in this process, handed the fleet
// flake and this host's name. Looking at the host first (one handshake on the lockdown port, or a
// login and the detect probe) happens before any question; that session is then the install's own
// first session, so a fleet host logs in as often as a single install does.
import { OperationError, UserError, isNixnodeError } from "../errors";
import { formatVerdict, preflight } from "../detect/preflight";
import { detectFacts } from "../detect/detect";
import type { Facts } from "../facts/types";
import { hostFileOf, readHostFileAt } from "../flake/host-file";
import { stageInFlakeGit } from "../generate/write-flake";
import { pinKnownHost } from "../install/pin-known-host";
import { runInstall } from "../install/run-install";
import type { InstallDeps, InstallSession } from "../install/types";
import { probeHostKey } from "../install/wait-for-pinned-host-key";
import type { HostData } from "../plan/types";
import type { Log } from "../ui/log";
import type { Output } from "../ui/output";
import type { Prompter } from "../ui/prompter";
import type { CommandContext } from "../cli/command";
import { connectFromCli } from "../cli/target-options";
import type { FleetHostResult, FleetHostWork } from "./install-fleet";
import { shellQuote } from "../util/shell-quote";

export interface FleetHostPrepared {
  host: string;
  address: string;
  data: HostData;
  /** Answers on its lockdown port with the pinned key and host.json says the lockdown is final. */
  lockedDown: boolean;
  /** Runs the installed system with the pinned key already (only verify and lockdown are left). */
  installed: boolean;
  session: InstallSession | null;
  facts: Facts | null;
}

export interface FleetHostEnv {
  ctx: CommandContext;
  flakeDir: string;
  /** fleet/fleet.json's address of each host. */
  addresses: Record<string, string>;
  yes: boolean;
  /** -i files (absolute). */
  identities: string[];
  knownHostsFile: string;
  operatorPublicKeys: string[];
  /** The operator's age identities, loaded once (a passphrase is asked before the first host). */
  operatorIdentities: InstallDeps["operatorIdentities"];
  which(name: string): string | null;
  /** The per-host output (events carry the host) and log (lines carry the host). */
  outputFor(host: string): Output;
  logFor(host: string): Log;
  /** Passed to each host's lockdown (--confirm-timeout). */
  confirmTimeoutSec: number | null;
  /** One question at a time, even when several hosts are looked at together. */
  prompter: Prompter;
}

const SSH_OPTIONS_FOR_HOSTS = ["identity", "password-file", "known-hosts", "connect-timeout", "ssh-config", "log-dir"];

function destinationOf(address: string): string {
  return `root@${address.includes(":") ? `[${address}]` : address}`;
}

function readHost(flakeDir: string, host: string): HostData {
  return readHostFileAt(hostFileOf(flakeDir, host)).host;
}

/** The fleet command's context narrowed to one host: its output and log, its questions (or none). */
function hostContext(e: FleetHostEnv, host: string, prompter: Prompter): CommandContext {
  const options = Object.fromEntries(
    Object.entries(e.ctx.options).filter(([k]) => SSH_OPTIONS_FOR_HOSTS.includes(k) || k === "accept-new-host-key"),
  );
  return { ...e.ctx, options, out: e.outputFor(host), log: e.logFor(host), prompter };
}

export function fleetHostWork(e: FleetHostEnv): FleetHostWork<FleetHostPrepared> {
  const open = new Set<InstallSession>();
  const noQuestions: Prompter = { ...e.prompter, interactive: false };

  return {
    async prepare(host) {
      const address = e.addresses[host]!;
      const data = readHost(e.flakeDir, host);
      const pinned = data.ssh.hostKeyFingerprint;
      const out = e.outputFor(host);
      const lport = data.lockdown.port;
      if (pinned && data.lockdown.stage === "final") {
        // one handshake, no login: a finished host gets no new session at all
        out.step("check", "start", `checking port ${lport} for the pinned host key`);
        const now = await probeHostKey(address, lport, 10_000);
        if (now.kind === "key" && now.fingerprint === pinned)
          return { host, address, data, lockedDown: true, installed: true, session: null, facts: null };
      }
      out.step("check", "start", `connecting to ${destinationOf(address)}:22 and probing`);
      const now = await probeHostKey(address, 22, 10_000);
      const pinnedNow = pinned && now.kind === "key" && now.fingerprint === pinned ? pinned : undefined;
      const session = await connectFromCli(
        hostContext(e, host, e.prompter),
        destinationOf(address),
        pinnedNow ? { pinnedHostKey: pinnedNow } : undefined,
      );
      open.add(session);
      const facts = await detectFacts(session as Parameters<typeof detectFacts>[0], {
        signal: e.ctx.signal,
        log: e.logFor(host),
      });
      const installed = !!pinnedNow && facts.os.isNixos && !facts.os.isNixosInstaller;
      if (!installed) {
        const verdict = preflight(facts);
        if (!verdict.ok) {
          open.delete(session);
          await session.close().catch(() => undefined);
          throw new UserError(`${host} (${address}) cannot be installed: the preflight refused it`, {
            field: `hosts.${host}`,
            details: formatVerdict(verdict),
            hint: verdict.checks.find((c) => c.status === "fail")?.fix ?? "see the checks above",
          });
        }
      }
      out.step("check", "done", installed ? "runs the installed system" : `${facts.disks.length} disk(s), ready`);
      return { host, address, data, lockedDown: false, installed, session, facts };
    },

    done(p) {
      if (!p.lockedDown) return null;
      return {
        host: p.host,
        status: "skipped",
        fingerprint: p.data.ssh.hostKeyFingerprint,
        sshPort: p.data.lockdown.port,
        message: "already installed and locked down",
        fix: null,
        exitCode: null,
      };
    },

    async confirm(hosts) {
      try {
        const erasing = hosts.filter((h) => !h.prepared.installed);
        for (const { host, prepared } of erasing) {
          const disks = prepared.facts!.disks.map((d) => `${d.path} (${(d.sizeBytes / 1024 ** 3).toFixed(1)} GiB)`);
          e.ctx.out.info(
            `${host} (${prepared.address}): every disk in hosts/${host}/disk-config.nix will be ERASED; the machine has ${disks.join(", ") || "no disks found"}`,
            { host, erase: disks },
          );
        }
        if (!e.yes) {
          for (const { host } of erasing) {
            const typed = await e.prompter.text({
              message: `Type the host name (${host}) to erase its disks and install NixOS`,
            });
            if (typed.trim() !== host)
              throw new UserError(`"${typed.trim()}" is not "${host}": nothing was erased on any host`, {
                field: "--yes",
                hint: `type each host name exactly as shown (${host}), or run with --yes`,
              });
          }
        }
        // the host keys in the flake are encrypted to the operators: a passphrase is asked now, once
        if (hosts.length) await e.operatorIdentities();
      } catch (err) {
        for (const s of open) await s.close().catch(() => undefined);
        open.clear();
        throw err;
      }
    },

    async install(host, p) {
      const out = e.outputFor(host);
      const log = e.logFor(host);
      const ctx = hostContext(e, host, noQuestions);
      const dest = destinationOf(p.address);
      let first = p.session;
      let facts = p.facts;
      const deps: InstallDeps = {
        out,
        log,
        signal: e.ctx.signal,
        env: e.ctx.env,
        destination: { user: "root", host: p.address, port: 22 },
        knownPinnedHostKey: p.data.ssh.hostKeyFingerprint,
        probeHostKey,
        async connect({ pinnedHostKey, purpose }) {
          if (purpose === "primary" && first) {
            const s = first;
            first = null;
            open.delete(s);
            return s;
          }
          return connectFromCli(ctx, dest, pinnedHostKey ? { pinnedHostKey } : undefined);
        },
        async detect(session) {
          if (facts) {
            const f = facts;
            facts = null;
            return f;
          }
          return detectFacts(session as Parameters<typeof detectFacts>[0], { signal: e.ctx.signal, log });
        },
        async obtainFlake() {
          out.info(`Using the fleet flake in ${e.flakeDir} (hosts/${host})`);
          return { dir: e.flakeDir, hostName: host, host: readHost(e.flakeDir, host), plan: null };
        },
        // every host's erase was confirmed (or --yes) before the first host started
        async confirmErase(lines) {
          for (const l of lines) out.info(l);
        },
        engine: "auto",
        kexecSha256: null,
        which: e.which,
        phases: null,
        rebootTimeoutMs: null,
        copyFlakeToEtc: false,
        identityFile: e.identities[0] ?? null,
        operatorPublicKeys: e.operatorPublicKeys,
        operatorIdentities: e.operatorIdentities,
        password: e.ctx.env.NIXNODE_SSH_PASSWORD ?? null,
        async trustHostKey(publicKey) {
          pinKnownHost(e.knownHostsFile, p.address, 22, publicKey);
          return e.knownHostsFile;
        },
        lockdown: (flake) => lockdownHost(e, ctx, dest, flake.hostName),
      };
      try {
        await runInstall(deps);
      } finally {
        if (first) {
          open.delete(first);
          await first.close().catch(() => undefined);
        }
      }
      const now = readHost(e.flakeDir, host);
      return {
        host,
        status: "installed",
        fingerprint: now.ssh.hostKeyFingerprint,
        sshPort: now.lockdown.stage === "final" ? now.lockdown.port : (now.ssh.ports[0] ?? 22),
        message: now.lockdown.stage === "final" ? "installed and locked down" : "installed",
        fix: null,
        exitCode: null,
      };
    },

    failed(host, err) {
      let data: HostData | null = null;
      try {
        data = readHost(e.flakeDir, host);
      } catch {
        // the table still gets a row; the error says what is wrong with the file
      }
      const nixnode = isNixnodeError(err) ? err : null;
      const message = (err as Error).message?.split("\n")[0] ?? String(err);
      const again = `nixnode-install fleet install --flake ${shellQuote(e.flakeDir)} --hosts ${host} (it resumes where ${host} stopped)`;
      return {
        host,
        status: "failed",
        fingerprint: data?.ssh.hostKeyFingerprint ?? null,
        sshPort: data ? (data.lockdown.stage === "final" ? data.lockdown.port : (data.ssh.ports[0] ?? 22)) : null,
        message,
        // the single-host hint says what to fix; the fleet's own command finishes the host afterwards
        fix: nixnode?.hint
          ? `${nixnode.hint}. To finish this host in the fleet: ${again}`
          : `fix the cause above, then: ${again}`,
        exitCode: nixnode?.exitCode ?? 1,
      };
    },

    async after(host) {
      // the install and lockdown stage their own files; two hosts doing so at once can meet git's
      // index lock and only warn, so each host's folders are staged again here, one host at a time
      await stageInFlakeGit(e.flakeDir, [`hosts/${host}`, `keys/${host}`, `secrets/${host}`]);
    },
  };
}

/** The `lockdown` command itself, as `install` runs it after a verified install: same checks, same protocol. */
async function lockdownHost(e: FleetHostEnv, ctx: CommandContext, dest: string, host: string): Promise<void> {
  const lockdown = (await import("../cli/commands/lockdown")).default;
  const out = { ...ctx.out, result: (human: string, data: unknown) => ctx.out.info(human, data) };
  const options: CommandContext["options"] = { ...ctx.options, flake: e.flakeDir, host };
  if (e.confirmTimeoutSec !== null) options["confirm-timeout"] = String(e.confirmTimeoutSec);
  const code = await lockdown.run({ ...ctx, out, args: [dest], options });
  if (typeof code === "number" && code !== 0) throw new OperationError(`lockdown ended with exit code ${code}`);
}
