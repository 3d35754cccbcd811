// `nixnode-install lockdown [user@]host[:port]`: the lockdown phase on its own (LOCKDOWN.md). It reads
// the flake the install generated (host.json pins the host key and names the new port), connects
// with the pinned key only, and runs the guarded protocol in src/lockdown.
import { resolve } from "node:path";
import { UserError, badField } from "../../errors";
import { DEFAULT_CONFIRM_TIMEOUT_SEC, prepareLockdown, runLockdown } from "../../lockdown";
import { keyOnlyConnector } from "../../lockdown/ssh-connector";
import { unfinishedInstallError } from "../../lockdown/unfinished-install";
import { destinationLabel } from "../../install/steps/connect-target";
import { SSH_CLI_OPTIONS, connectFromCli, sshSettingsFromCli } from "../target-options";
import { port as portField } from "../../util/fields";
import type { Command } from "../command";
import { runLockdownLocal } from "../../install/local/lockdown-local";

const command: Command = {
  name: "lockdown",
  summary: "key-only SSH, new port, firewall, fail2ban: applied behind confirm-or-roll-back",
  usage:
    "nixnode-install lockdown [user@]host[:port] [--flake DIR] [--port P] [--confirm-timeout SEC] [--ssh-config-block]   |   nixnode-install lockdown --local [--port P] [--yes]",
  description: `
Moves sshd to a new port with key-only logins, turns the firewall on and starts fail2ban with your
address ignored. Each of the two stages (ports 22 and P, then P only) is activated by a supervisor
on the target that rolls back by itself unless this tool confirms it over a NEW connection on the
new port within --confirm-timeout seconds; a reboot also reverts an unconfirmed stage.
Exit 0 only when the final state is confirmed; 3 after a rollback, with what was observed.

At the console of an installed node, --local switches straight to the final state (no lockout risk
there: you are at the console): it reads the flake in /etc/nixos (or --flake), builds, activates,
and prints the known_hosts line for your own machine.

Examples:
  nixnode-install lockdown root@203.0.113.7 --flake ./my-node
  nixnode-install lockdown root@203.0.113.7 --flake ./my-node --port 2222 --ssh-config-block
`,
  maxArgs: 1,
  options: {
    flake: { type: "string", path: "dir-in", value: "DIR", help: "the node's flake (default: the current folder)" },
    host: { type: "string", value: "NAME", help: "which hosts/<NAME> of the flake (default: the only one)" },
    port: { type: "string", value: "P", help: "the new SSH port (default: host.json lockdown.port)" },
    "confirm-timeout": {
      type: "string",
      value: "SEC",
      help: `seconds the target waits for the confirmation after each switch (default ${DEFAULT_CONFIRM_TIMEOUT_SEC})`,
    },
    "ignore-ip": {
      type: "string",
      multiple: true,
      value: "ADDR",
      help: "another address or CIDR fail2ban must never ban (repeatable; yours is added)",
    },
    "ssh-config-block": { type: "boolean", help: "print a ~/.ssh/config block for the new port" },
    local: {
      type: "boolean",
      help: "lock down the machine this runs on, at its console (flake: /etc/nixos; no lockout risk there)",
    },
    yes: { type: "boolean", help: "with --local: do not ask before switching" },
    ...SSH_CLI_OPTIONS,
  },
  async run(ctx) {
    if (ctx.options.local === true) return runLockdownLocal(ctx);
    if (ctx.options.yes === true)
      throw new UserError("--yes: only with --local (over SSH the lockdown asks nothing)", {
        field: "--yes",
        hint: "leave --yes out, or add --local to lock down the machine this runs on",
      });
    const destination = ctx.args[0];
    if (!destination)
      throw new UserError("which machine? give [user@]host[:port]", {
        field: "target",
        hint: "nixnode-install lockdown root@203.0.113.7 --flake ./my-node",
      });
    const flakeDir = resolve(ctx.cwd, typeof ctx.options.flake === "string" ? ctx.options.flake : ".");
    const hostname = typeof ctx.options.host === "string" ? ctx.options.host : undefined;
    const port = typeof ctx.options.port === "string" ? portField(ctx.options.port, "--port") : undefined;
    const t = ctx.options["confirm-timeout"];
    let confirmTimeoutSec: number | undefined;
    if (typeof t === "string") {
      if (!/^\d+$/.test(t) || Number(t) < 5 || Number(t) > 3600)
        throw badField("--confirm-timeout", `"${t}" is not a number of seconds (5-3600)`, "e.g. --confirm-timeout 120");
      confirmTimeoutSec = Number(t);
    }
    const ignore = (ctx.options["ignore-ip"] as string[] | undefined) ?? [];

    // Everything local is checked before the first packet, once: the flake (every host.json
    // field), the pinned key, the port, the addresses. runLockdown gets the result.
    const settings = sshSettingsFromCli(ctx, destination);
    const prepared = prepareLockdown({
      flakeDir,
      hostname,
      port,
      confirmTimeoutSec,
      extraIgnoreIP: ignore,
      hostKeyFingerprint: settings.pinnedHostKey,
    });
    const f = prepared.flake;
    const pinned = prepared.pinned;
    let primary;
    try {
      primary = await connectFromCli(ctx, destination, { pinnedHostKey: pinned });
    } catch (e) {
      throw (
        unfinishedInstallError(e, {
          flakeDir,
          flakeArg: typeof ctx.options.flake === "string" ? ctx.options.flake : ".",
          destination,
          target: destinationLabel({ user: settings.user ?? "root", host: settings.host, port: settings.port ?? 22 }),
          hostFile: f.file,
        }) ?? e
      );
    }
    try {
      const result = await runLockdown({
        primary,
        currentPort: settings.port ?? 22,
        connector: keyOnlyConnector({ base: { ...settings, log: ctx.log }, pinnedHostKey: pinned }),
        flakeDir,
        hostname: f.hostname,
        prepared,
        knownHostsFile: settings.knownHostsFiles?.[0] ?? null,
        sshConfigBlock: ctx.options["ssh-config-block"] === true,
        out: ctx.out,
        log: ctx.log,
        signal: ctx.signal,
      });
      ctx.out.result(
        `Locked down: ${settings.user}@${settings.host} now answers on port ${result.port} with keys only; port 22 is closed. ` +
          `Recovery notes are in ${flakeDir}/README.md (section ${f.hostname}).`,
        result,
      );
    } finally {
      await primary.close().catch(() => undefined);
    }
  },
};
export default command;
