// Command names and summaries live here so that top-level --help loads no command module.
import type { Command } from "./command";
import { loadCommands } from "./load-commands";

const summaries = {
  install: "detect, plan, install NixOS and lock it down (the default command)",
  plan: "generate a node flake from a target, a facts file or a bundled example (offline)",
  detect: "probe a target over SSH and print its facts and the preflight verdict",
  lockdown: "key-only SSH, new port, firewall, fail2ban: applied behind confirm-or-roll-back",
  switch: "apply an edited flake behind confirm-or-roll-back (ports, firewall, keys included)",
  check: "evaluate a node flake's system with Nix (here or on a NixOS host) before an install or switch",
  secrets: "age secrets (agenix layout) encrypted to the host key and the operators' keys",
  usb: "write the verified NixOS installer image to a USB stick (lists sticks without DEVICE)",
  fleet: "plan many hosts from one inventory (fleet.json): one flake, a WireGuard mesh, a colmena hive",
} as const;

export type CommandName = keyof typeof summaries;
export const DEFAULT_COMMAND: CommandName = "install";

export const COMMANDS = Object.fromEntries(
  (Object.keys(summaries) as CommandName[]).map((name) => [
    name,
    { summary: summaries[name], load: async (): Promise<Command> => (await loadCommands())[name] },
  ]),
) as Record<CommandName, { summary: string; load: () => Promise<Command> }>;
