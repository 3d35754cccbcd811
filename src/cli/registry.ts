// Command names and summaries live here so that top-level --help loads no command module.
import type { Command } from "./command";

export const COMMANDS = {
  install: { summary: "detect, plan, install NixOS and lock it down (the default command)", load: async () => (await import("./commands/install")).default },
  plan: { summary: "generate a node flake from a target, a facts file or a bundled example (offline)", load: async () => (await import("./commands/plan")).default },
  detect: { summary: "probe a target over SSH and print its facts and the preflight verdict", load: async () => (await import("./commands/detect")).default },
  lockdown: { summary: "key-only SSH, new port, firewall, fail2ban: applied behind confirm-or-roll-back", load: async () => (await import("./commands/lockdown")).default },
  secrets: { summary: "age secrets (agenix layout) encrypted to the host key and the operators' keys", load: async () => (await import("./commands/secrets")).default },
} satisfies Record<string, { summary: string; load: () => Promise<Command> }>;

export type CommandName = keyof typeof COMMANDS;
export const DEFAULT_COMMAND: CommandName = "install";
