// `nixnode-install fleet plan`: many machines from one inventory (fleet.json) -> one fleet flake
// with a WireGuard mesh, node and collector roles and a colmena hive. Offline: facts come from files
// or bundled examples. `fleet install` and `fleet switch` run the single-host install/lockdown and the
// guarded switch per host (src/fleet/install-fleet*.ts, src/fleet/switch-fleet.ts).
import { resolve } from "node:path";
import { UserError } from "../../errors";
import { loadInventoryFile } from "../../fleet/inventory";
import { checkFleetDir, planFleet, writeFleet } from "../../fleet/plan-fleet";
import type { Command } from "../command";
import { FLEET_INSTALL_OPTIONS, runFleetInstallCommand } from "../../fleet/install-fleet-command";
import { SSH_CLI_OPTIONS } from "../target-options";
import { fleetSwitchCommand, FLEET_SWITCH_OPTIONS } from "../../fleet/fleet-switch-command";

const SUBCOMMANDS = ["plan", "install", "switch"] as const;

const command: Command = {
  name: "fleet",
  summary: "plan many hosts from one inventory (fleet.json): one flake, a WireGuard mesh, a colmena hive",
  usage:
    "nixnode-install fleet plan --inventory fleet.json --out DIR [--dry-run] [--force]\n" +
    "       nixnode-install fleet install [--flake DIR] [--hosts a,b] [--parallel N] [--yes] [--json]\n" +
    "       nixnode-install fleet switch [--flake DIR] [--hosts a,b] [--canary N] [--parallel N] [--confirm-timeout SEC] [--dry-run] [--json]",
  description: `
Reads fleet.json (hosts with their address, role node|collector, facts file or bundled example, and
nixnode.json answers over shared defaults; see docs/fleet.md), checks all of it, then writes ONE
flake: hosts/<host>/ per machine, fleet/*.nix shared once, fleet/fleet.json (the mesh and the
colmena deployment data), each host's SSH host key and WireGuard key (age-encrypted), and a
colmenaHive output. Re-running it on the same folder keeps every existing key and mesh address,
so adding a host changes no other host's files. Nothing on any machine is changed.

\`fleet switch\` applies the edited fleet flake through the guarded switch of \`nixnode-install
switch\`, host by host: --canary N hosts first (default 1, in inventory order), then the rest
--parallel N at a time (default 4). The rollout stops at the first host that does not confirm
(hosts not started are untouched; hosts already switched keep the new configuration). Each host's
address and user come from fleet/fleet.json, its pinned host key from its host.json, its port from
the lockdown (see docs/fleet.md). Exit 0 when every host confirmed, 3 after a rollback, 2 when
refused before starting.
\`fleet install\` installs the selected hosts (--hosts a,b; default all) N at a time (--parallel,
default 4): for each, the same detect, preflight, install, verify and lockdown as \`nixnode-install
install\`. Every erase is confirmed (typed host names, or --yes) before the first host starts; one
host failing never stops the others; the end is a table (host, result, pinned key, SSH port, what to
do). Exit 0 only when every host is done, 3 when one failed, 2 when refused before starting. Run it
again to resume: finished hosts are skipped ("already installed and locked down").

Examples:
  nixnode-install fleet plan --inventory fleet.json --out ./my-fleet
  nixnode-install fleet plan --inventory fleet.json --out ./my-fleet --dry-run
  nixnode-install fleet install --flake ./my-fleet --parallel 4
  nixnode-install fleet switch --flake ./my-fleet --dry-run
  nixnode-install fleet switch --flake ./my-fleet --canary 1 --parallel 4`,
  options: {
    inventory: { type: "string", path: "file-in", value: "FILE", help: "the fleet inventory (fleet.json)" },
    out: {
      type: "string",
      short: "o",
      value: "DIR",
      help: "the fleet flake folder (new, empty, or an earlier fleet plan)",
    },
    "dry-run": {
      type: "boolean",
      help: "plan: check and plan everything, write nothing; switch: each host's change in words, nothing changed",
    },
    force: { type: "boolean", help: "write into a non-empty folder that holds no fleet plan" },
    ...FLEET_INSTALL_OPTIONS,
    ...FLEET_SWITCH_OPTIONS,
    ...SSH_CLI_OPTIONS,
  },
  maxArgs: 1,
  async run(ctx) {
    const sub = ctx.args[0];
    if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub))
      throw new UserError(sub ? `"${sub}" is not a fleet command` : "missing fleet command", {
        field: sub ?? "COMMAND",
        hint: "usage: nixnode-install fleet plan --inventory fleet.json --out DIR",
      });
    if (sub === "switch") return fleetSwitchCommand(ctx);
    if (sub === "install") return runFleetInstallCommand(ctx);
    const o = ctx.options;
    if (typeof o.inventory !== "string")
      throw new UserError("--inventory: missing", {
        field: "--inventory",
        hint: "give the fleet.json file: --inventory fleet.json",
      });
    const dryRun = o["dry-run"] === true;
    if (typeof o.out !== "string" && !dryRun)
      throw new UserError("--out: missing; where should the fleet flake go?", {
        field: "--out",
        hint: "add --out ./my-fleet, or --dry-run to only look",
      });
    const dir = typeof o.out === "string" ? resolve(ctx.cwd, o.out) : null;
    if (dir) checkFleetDir(dir, o.force === true, "--out", o.out as string);
    const inv = await loadInventoryFile(resolve(ctx.cwd, o.inventory));
    const plan = await planFleet(inv, { dir });
    for (const n of plan.removed)
      ctx.out.warn(
        `hosts/${n}: no longer in the inventory; left in place`,
        `remove hosts/${n}, keys/${n} and secrets/${n} with git rm when the machine is gone (docs/fleet.md)`,
      );
    const rows = Object.values(plan.data.hosts).map(
      (h) =>
        `${h.name}: ${h.role}, ${h.address}, mesh ${h.meshIp}, SSH ${h.deployment.targetUser}@ port ${h.deployment.targetPort}`,
    );
    if (dryRun || !dir) {
      ctx.out.result(`fleet plan (dry run, nothing written):\n  ${rows.join("\n  ")}`, {
        dryRun: true,
        fleet: plan.data,
        files: Object.keys(plan.files),
      });
      return 0;
    }
    const written = writeFleet(plan, dir);
    ctx.out.result(
      `fleet flake written to ${dir} (${written.length} files, ${plan.secrets.length} new keys and secrets):\n  ${rows.join("\n  ")}\nNext: see README.md there; install each host, then day two with colmena.`,
      { dir, fleet: plan.data, written },
    );
    return 0;
  },
};
export default command;
