// What the operator at the console needs to finish from their own machine: where the node answers,
// the host key it will present, and the exact lockdown command, also as a QR code a phone can carry.
import { renderUnicodeCompact } from "uqr";
import type { Facts } from "../../facts/types";
import { shellQuote } from "../../util/shell-quote";

export interface EndScreen {
  addresses: string[];
  fingerprint: string;
  nextCommand: string;
  lines: string[];
}

/** Global-scope addresses first (what another machine can reach), link-local and loopback left out. */
export function reachableAddresses(facts: Facts): string[] {
  const out: string[] = [];
  for (const i of facts.network.interfaces) {
    if (i.kind === "loopback") continue;
    for (const a of i.addresses) {
      const ip = a.address;
      if (/^(127\.|169\.254\.)/.test(ip) || /^(::1$|fe80:)/i.test(ip)) continue;
      out.push(ip);
    }
  }
  return [...out.filter((a) => !a.includes(":")), ...out.filter((a) => a.includes(":"))];
}

export function endScreen(o: {
  facts: Facts;
  hostName: string;
  fingerprint: string;
  flakeOnStick: string | null;
}): EndScreen {
  const addresses = reachableAddresses(o.facts);
  const ip = addresses[0] ?? "<address>";
  const host = ip.includes(":") ? `[${ip}]` : ip;
  const nextCommand = `nixnode-install lockdown root@${host} --flake ${shellQuote(`./${o.hostName}`)} --host-key ${o.fingerprint}`;
  const lines = [
    `${o.hostName} is installed. After the reboot it answers SSH on:`,
    ...(addresses.length
      ? addresses.map((a) => `  ${a}`)
      : ["  (no address seen here: look at the console after the reboot: ip addr)"]),
    `Its host key (pinned in hosts/${o.hostName}/host.json): ${o.fingerprint}`,
    `The flake is in /etc/nixos on the new system${o.flakeOnStick ? ` and on the USB stick (${o.flakeOnStick})` : ""}.`,
    "Next, on your own machine (copy the flake there first, e.g. scp -r root@" +
      host +
      ":/etc/nixos ./" +
      o.hostName +
      "):",
    `  ${nextCommand}`,
  ];
  return { addresses, fingerprint: o.fingerprint, nextCommand, lines };
}

/** The next command as a terminal QR code (two modules per character cell). */
export function terminalQr(text: string): string {
  return renderUnicodeCompact(text, { border: 2, ecc: "L" });
}
