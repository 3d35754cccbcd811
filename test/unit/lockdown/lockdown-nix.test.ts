// The module the lockdown copies into hosts/<host>/lockdown.nix: it must parse with real Nix, and it
// must read host.json (not hard-code ports or addresses).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const FILE = fileURLToPath(new URL("../../../flake-templates/base/hosts/lockdown.nix", import.meta.url));
let hasNix = true;
try {
  execFileSync("nix-instantiate", ["--version"], { stdio: "ignore" });
} catch {
  hasNix = false;
}

describe("lockdown.nix", () => {
  it.skipIf(!hasNix)(
    `parses with nix-instantiate --parse${hasNix ? "" : " (skipped: nix-bin is not installed)"}`,
    () => {
      const out = execFileSync("nix-instantiate", ["--parse", FILE], { encoding: "utf8" });
      expect(out).toContain("fromJSON");
    },
  );
  it("takes every managed value from host.json and sets the nixpkgs option names", () => {
    const text = readFileSync(FILE, "utf8");
    for (const opt of [
      "ports = lib.mkForce ssh.ports",
      "PasswordAuthentication = lib.mkForce ssh.passwordAuthentication",
      "KbdInteractiveAuthentication = lib.mkForce false",
      "startWhenNeeded = lib.mkForce false",
      "ignoreIP = host.fail2ban.ignoreIP",
      "bantime-increment.enable = true",
    ]) {
      expect(text).toContain(opt);
    }
    expect(text).not.toMatch(/\b(2222|22)\b\s*\]/);
  });
});
