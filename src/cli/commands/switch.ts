// `nixnode-install switch [user@]host[:port] --flake DIR`: a day-two change applied behind the
// lockdown's guard (src/switch): the change in words first, refusals before activation, then one
// supervised switch confirmed over NEW connections where the new configuration answers.
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { UserError, badField } from "../../errors";
import { DEFAULT_CONFIRM_TIMEOUT_SEC, prepareLockdown } from "../../lockdown";
import { keyOnlyConnector } from "../../lockdown/ssh-connector";
import { probeLocalNix } from "../../switch/build-local";
import { BUILD_ON, decideBuildLocation, type BuildOn } from "../../switch/build-location";
import { healthCheckFor } from "../../switch/health";
import { proveKeyLogin } from "../../switch/prove-key";
import { runSwitch } from "../../switch/run-switch";
import { SSH_CLI_OPTIONS, connectFromCli, sshSettingsFromCli } from "../target-options";
import type { Command } from "../command";

const command: Command = {
  name: "switch",
  summary: "apply an edited flake behind confirm-or-roll-back (ports, firewall, keys included)",
  usage:
    "nixnode-install switch [user@]host[:port] --flake DIR [--confirm-timeout SEC] [--keep-on-failed-checks] [--build-on auto|local|target] [--dry-run]",
  description: `
Builds the flake's system (on this machine when its Nix is 2.18 or newer and builds for the node's
system, then nix copy sends it over SSH with the pinned host key; else on the node; --build-on
auto|local|target chooses), prints what changes in words (sshd ports, auth methods,
firewall ports, addresses and routes, authorized keys, fail2ban), refuses changes that would lock
you out (a firewall dropping your SSH port, removing the key you log in with), then activates it
under a supervisor on the target that rolls back by itself unless this tool confirms it over a NEW
connection to where the new configuration answers (e.g. the new port) and the node is healthy:
no unit failed by the switch (units failed before are only reported) and every check of
host.json's health.checks passes within its timeout (docs/switch.md "Health checks").
--keep-on-failed-checks keeps a configuration whose declared checks fail (a warning each); a unit
the switch broke still rolls it back.
--dry-run prints the summary and the commands and changes nothing.
Run again after an interruption: a switch still in its window is named (time left) and refused,
one that rolled back is reported, one acknowledged but not yet the boot default is finished.
--json prints one event per line (docs/switch.md "--json events").
Exit 0 when confirmed; 2 when refused before activation; 3 after a rollback, with what was observed,
or while another switch is in its confirmation window.

Examples:
  nixnode-install switch root@203.0.113.7:2222 --flake ./my-node --dry-run
  nixnode-install switch root@203.0.113.7:2222 --flake ./my-node
`,
  maxArgs: 1,
  options: {
    flake: { type: "string", path: "dir-in", value: "DIR", help: "the node's flake (default: the current folder)" },
    host: { type: "string", value: "NAME", help: "which hosts/<NAME> of the flake (default: the only one)" },
    "confirm-timeout": {
      type: "string",
      value: "SEC",
      help: `seconds the target waits for the confirmation after the switch (default ${DEFAULT_CONFIRM_TIMEOUT_SEC})`,
    },
    "keep-on-failed-checks": {
      type: "boolean",
      help: "keep the new configuration when a health.checks check fails (a warning instead of a rollback)",
    },
    "build-on": {
      type: "string",
      value: "WHERE",
      help: "auto (default: here when this machine's Nix can build the node's system), local or target",
    },
    "dry-run": { type: "boolean", help: "print the change summary and the commands; change nothing" },
    ...SSH_CLI_OPTIONS,
  },
  async run(ctx) {
    const destination = ctx.args[0];
    if (!destination)
      throw new UserError("which machine? give [user@]host[:port]", {
        field: "target",
        hint: "nixnode-install switch root@203.0.113.7:2222 --flake ./my-node",
      });
    const flakeDir = resolve(ctx.cwd, typeof ctx.options.flake === "string" ? ctx.options.flake : ".");
    const hostname = typeof ctx.options.host === "string" ? ctx.options.host : undefined;
    const t = ctx.options["confirm-timeout"];
    let confirmTimeoutSec: number | undefined;
    if (typeof t === "string") {
      if (!/^\d+$/.test(t) || Number(t) < 5 || Number(t) > 3600)
        throw badField("--confirm-timeout", `"${t}" is not a number of seconds (5-3600)`, "e.g. --confirm-timeout 120");
      confirmTimeoutSec = Number(t);
    }
    const b = ctx.options["build-on"] ?? "auto";
    if (typeof b !== "string" || !(BUILD_ON as readonly string[]).includes(b))
      throw badField("--build-on", `"${String(b)}" is not one of ${BUILD_ON.join(", ")}`, "e.g. --build-on local");
    const buildOn = b as BuildOn;
    const settings = sshSettingsFromCli(ctx, destination);
    // the same local checks as lockdown (every host.json field, the pinned key), before any packet
    const prepared = prepareLockdown({
      flakeDir,
      hostname,
      confirmTimeoutSec,
      hostKeyFingerprint: settings.pinnedHostKey,
    });
    const operatorKeys = (settings.identityFiles ?? [])
      .filter((f) => existsSync(`${f}.pub`))
      .map((f) => ({ publicKey: readFileSync(`${f}.pub`, "utf8").trim(), privatePath: f }));
    // where it builds is settled here, before any packet: --build-on local that cannot is exit 2
    const identityFile = settings.identityFiles?.[0];
    const location = decideBuildLocation(
      buildOn,
      buildOn === "target" ? { versionText: null, system: null } : await probeLocalNix(),
      prepared.flake.host.system,
      {
        user: settings.user ?? "root",
        host: settings.host,
        port: settings.port ?? 22,
        knownHostsFile: join(tmpdir(), "nixnode-copy-XXXXXX", "known_hosts"), // where build-local puts it
        identityFile,
      },
    );
    if ("error" in location)
      throw badField(
        "--build-on",
        `local: this machine cannot build it: ${location.error}`,
        "use --build-on auto or --build-on target (the node builds it), or install Nix 2.18+ for the node's system here",
      );
    const primary = await connectFromCli(ctx, destination, { pinnedHostKey: prepared.pinned });
    try {
      const result = await runSwitch({
        primary,
        currentPort: settings.port ?? 22,
        connector: keyOnlyConnector({ base: { ...settings, log: ctx.log }, pinnedHostKey: prepared.pinned }),
        flake: prepared.flake,
        pinned: prepared.pinned,
        operatorKeys,
        proveKeyLogin: (privatePath, port) =>
          proveKeyLogin(settings, prepared.pinned, privatePath, port, (l) => ctx.log.write(l)),
        confirmTimeoutSec: prepared.confirmTimeoutSec,
        dryRun: ctx.options["dry-run"] === true,
        build: { location, identityFile },
        knownHostsFile: settings.knownHostsFiles?.[0] ?? null,
        out: ctx.out,
        log: ctx.log,
        signal: ctx.signal,
        healthCheck: healthCheckFor(prepared.flake.host, {
          keepOnFailedChecks: ctx.options["keep-on-failed-checks"] === true,
          log: (l) => ctx.log.write(`switch: ${l}`),
        }),
      });
      ctx.out.result(
        result.dryRun
          ? `Dry run: ${result.summary.lines.length} change(s); nothing was changed on ${settings.host}.`
          : `Switched: ${settings.user}@${settings.host} runs the new configuration (generation ${result.generation ?? "?"}), confirmed on port ${result.port}.`,
        result,
      );
    } finally {
      await primary.close().catch(() => undefined);
    }
  },
};
export default command;
