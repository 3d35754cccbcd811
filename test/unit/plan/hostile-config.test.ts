// Issue 10.1, the nixnode.json half: hostile strings (shell, Nix, quotes, newlines, unicode controls)
// in EVERY field of nixnode.json are refused by the one parser, naming that field, before anything is
// planned, written or sent (install and plan parse --config before the first packet: see the CLI rows
// in test/unit/cli/bad-input-table.test.ts). The list of fields is read from docs/config.md's table,
// so a field added to the docs without a row here fails this test.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { parseConfig } from "../../../src/plan/config";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";

/** A complete, valid nixnode.json: every documented field set. */
function full(): Record<string, any> {
  return {
    hostname: "btc-node-1",
    nixos: "26.05",
    timezone: "Europe/Berlin",
    profile: "nix-bitcoin",
    disk: {
      layout: "ext4",
      devices: ["/dev/nvme0n1"],
      swap: "auto",
      data: { device: "/dev/nvme1n1", mountpoint: "/data", filesystem: "ext4" },
    },
    ssh: { port: 2222, authorizedKeys: [KEY], adminUser: "alice" },
    fail2ban: { enable: true, ignoreIP: ["203.0.113.7"] },
    install: { copyFlakeToEtc: true, rebootTimeoutSec: 600 },
    lockdown: { confirmTimeoutSec: 120 },
  };
}

/** Where each documented field lives in the object (arrays: their first element). */
const PATHS: Record<string, Array<string | number>> = {
  hostname: ["hostname"],
  nixos: ["nixos"],
  timezone: ["timezone"],
  profile: ["profile"],
  "disk.layout": ["disk", "layout"],
  "disk.devices": ["disk", "devices", 0],
  "disk.swap": ["disk", "swap"],
  "disk.data": ["disk", "data", "device"],
  "ssh.port": ["ssh", "port"],
  "ssh.authorizedKeys": ["ssh", "authorizedKeys", 0],
  "ssh.adminUser": ["ssh", "adminUser"],
  "fail2ban.enable": ["fail2ban", "enable"],
  "fail2ban.ignoreIP": ["fail2ban", "ignoreIP", 0],
  "install.copyFlakeToEtc": ["install", "copyFlakeToEtc"],
  "install.rebootTimeoutSec": ["install", "rebootTimeoutSec"],
  "lockdown.confirmTimeoutSec": ["lockdown", "confirmTimeoutSec"],
};
/** disk.data's inner fields, each hostile on its own too. */
const EXTRA: Record<string, Array<string | number>> = {
  "disk.data.mountpoint": ["disk", "data", "mountpoint"],
  "disk.data.filesystem": ["disk", "data", "filesystem"],
};

const HOSTILE = [
  "2222; touch /tmp/nixnode-pwned",
  "$(touch /tmp/nixnode-pwned)",
  "`touch /tmp/nixnode-pwned`",
  '${builtins.abort "pwned"}',
  '"; abort "pwned',
  "'' + abort \"pwned\" + ''",
  "node\nssh-ed25519 AAAA evil",
  "node\u202eevil",
  "node\u200b",
  "nöde",
];

function set(o: Record<string, any>, path: Array<string | number>, v: unknown): void {
  let at: any = o;
  for (const k of path.slice(0, -1)) at = at[k];
  at[path[path.length - 1]!] = v;
}

const label = (p: Array<string | number>) =>
  p.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");

describe("nixnode.json: hostile strings in every field", () => {
  it("the field list covers every field docs/config.md documents", () => {
    const doc = readFileSync(fileURLToPath(new URL("../../../docs/config.md", import.meta.url)), "utf8");
    const documented = [...doc.matchAll(/^\| `([a-zA-Z0-9.]+)`\s+\|/gm)].map((m) => m[1]!);
    expect(documented.length).toBeGreaterThan(10);
    expect([...documented].sort()).toEqual(Object.keys(PATHS).sort());
  });

  it("the complete config is accepted as it is (the control)", () => {
    expect(() => parseConfig(full())).not.toThrow();
  });

  for (const [name, path] of Object.entries({ ...PATHS, ...EXTRA })) {
    it(`${name}: every hostile string is refused, naming ${label(path)}`, () => {
      for (const h of HOSTILE) {
        const c = full();
        set(c, path, h);
        let err: unknown = null;
        try {
          parseConfig(c);
        } catch (e) {
          err = e;
        }
        expect(err, `${name} = ${JSON.stringify(h)} was accepted`).toBeInstanceOf(UserError);
        const field = (err as UserError).field ?? "";
        expect(field === label(path) || field.startsWith(`${label(path)}`) || field === name, field).toBe(true);
        // the hostile text never comes back in the message's first line unquoted
        const first = (err as Error).message.split("\n")[0]!;
        expect(first).not.toContain("\n");
      }
    });
  }
});
