// --ssh-key: the stock minimal ISO cannot take an authorized key without being rebuilt (docs/usb.md,
// "Adding an SSH key": sshd runs, but only a password set with passwd or a key typed into
// ~/.ssh/authorized_keys lets anyone in; there is no kernel parameter, partition or cloud-init hook).
// So the tool prints what to type at the installer's console, the key shell-quoted.
import { shellQuote } from "../util/shell-quote";
import type { ParsedPublicKey } from "../plan/ssh-public-key";

export interface ConsoleKeyAdvice {
  supported: false;
  /** Typed at the installer's console (logged in as "nixos"): the key is then accepted. */
  commands: string[];
  /** The other way: a temporary password, then the key copied from the operator's machine. */
  alternative: string[];
}

export function consoleKeyAdvice(key: ParsedPublicKey): ConsoleKeyAdvice {
  return {
    supported: false,
    commands: ["mkdir -p -m 700 ~/.ssh", `echo ${shellQuote(key.line)} >> ~/.ssh/authorized_keys`],
    alternative: [
      "passwd",
      "ssh-copy-id nixos@ADDRESS   # on your machine; ADDRESS from `ip -brief address` on the console",
    ],
  };
}

export function formatConsoleKeyAdvice(a: ConsoleKeyAdvice, fingerprint: string): string[] {
  return [
    "",
    `--ssh-key (${fingerprint}): the stock NixOS minimal image has no way to take a key without rebuilding it`,
    "(see docs/usb.md). sshd runs on it; after booting, type these two commands at its console:",
    ...a.commands.map((c) => `  ${c}`),
    "then connect with: ssh nixos@ADDRESS   (ADDRESS: `ip -brief address` on the console)",
    "Or set a temporary password and copy the key over:",
    ...a.alternative.map((c) => `  ${c}`),
  ];
}
