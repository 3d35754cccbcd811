// Every generated host's own modules (nixnode.nix, network.nix, lockdown.nix, the profile modules)
// evaluated with lib.evalModules against the REAL option declarations of the NixOS modules they
// touch, from NIXNODE_NIXOS_OPTIONS (nixpkgs' lib/ and nixos/, brought in outside the repository:
// docs/nixos-options.md). Without that folder the tests report as skipped, with the reason. A full
// NixOS evaluation is not possible offline (no package set): see nix-nixos-options.ts for what is
// stubbed, and each test's output for which option prefixes were NOT checked.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  declaringModules,
  evalAgainstNixosOptions,
  nixError,
  nixosOptionsUnavailable,
} from "../../helpers/nix-nixos-options";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const GOLDEN = join(ROOT, "test/golden/flakes");
const LOCKDOWN = join(ROOT, "flake-templates/base/hosts/lockdown.nix");
const UNAVAILABLE = nixosOptionsUnavailable();
const work = mkdtempSync(join(tmpdir(), "nixnode-options-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface HostCase {
  name: string;
  /** The host's own modules, copied as the flake has them (host.json beside them). */
  files: string[];
  /** Profile modules that need a flake input (nix-bitcoin, infra-library): not available offline. */
  needInputs: string[];
  /** The flake passes host.json to profiles as the specialArg nixnodeHost. */
  hostJson: string;
}

/** Every golden flake's hosts, with the lockdown.nix the lockdown adds: a new golden case is picked up. */
function hostCases(): HostCase[] {
  const cases: HostCase[] = [];
  for (const flake of readdirSync(GOLDEN).sort()) {
    const hostsDir = join(GOLDEN, flake, "hosts");
    if (!existsSync(hostsDir)) continue;
    // profiles/*.nix are NixOS modules; infra.nix (peer-observer) is infra-library's data, read by
    // infra-library's mkNodeConfig, a flake input that is not available offline
    const profileFiles = existsSync(join(GOLDEN, flake, "profiles"))
      ? readdirSync(join(GOLDEN, flake, "profiles"))
          .filter((f) => f.endsWith(".nix"))
          .map((f) => join(GOLDEN, flake, "profiles", f))
      : [];
    for (const host of readdirSync(hostsDir).sort()) {
      const dir = join(work, flake, "hosts", host);
      mkdirSync(dir, { recursive: true });
      const own = ["host.json", "nixnode.nix", "network.nix"].filter((f) => existsSync(join(hostsDir, host, f)));
      for (const f of own) copyFileSync(join(hostsDir, host, f), join(dir, f));
      copyFileSync(LOCKDOWN, join(dir, "lockdown.nix"));
      const files = [...own.filter((f) => f.endsWith(".nix")).map((f) => join(dir, f)), join(dir, "lockdown.nix")];
      const needInputs: string[] = [];
      for (const p of profileFiles) {
        if (/\binputs\s*\./.test(readFileSync(p, "utf8"))) {
          needInputs.push(basename(p));
          continue;
        }
        const to = join(work, flake, basename(p));
        copyFileSync(p, to);
        files.push(to);
      }
      cases.push({ name: `${flake}/${host}`, files, needInputs, hostJson: join(dir, "host.json") });
    }
  }
  return cases;
}

describe.skipIf(UNAVAILABLE !== null)(
  `generated modules against NixOS's own option declarations (lib.evalModules with pkgs stubbed: not a full NixOS evaluation)${UNAVAILABLE ? ` (skipped: ${UNAVAILABLE})` : ""}`,
  () => {
    const CASES = UNAVAILABLE ? [] : hostCases();

    it("the folder has the option-declaring modules of sshd, fail2ban and the firewall", () => {
      const { present, absent } = declaringModules();
      console.log(
        `declaring modules evaluated: ${present.join(", ")}\nabsent (their options not checked): ${absent.join(", ")}`,
      );
      expect(present).toEqual(
        expect.arrayContaining([
          "services/networking/ssh/sshd.nix",
          "services/security/fail2ban.nix",
          "services/networking/firewall.nix",
        ]),
      );
    });

    it.each(CASES.map((c) => [c.name, c] as const))(
      "%s: every option its modules set exists, has the right type and does not conflict",
      (_name, c) => {
        const started = Date.now();
        let r;
        try {
          r = evalAgainstNixosOptions(c.files, { hostJson: c.hostJson });
        } catch (e) {
          throw new Error(`${c.name}: NixOS option evaluation failed:\n${nixError(e)}`);
        }
        const sunk = (p: string) => r.unchecked.some((u) => p === u || p.startsWith(u + "."));
        console.log(
          `${c.name} (${Date.now() - started} ms):\n` +
            `  checked against real declarations: ${r.checked.filter((p) => !sunk(p)).join(", ")}\n` +
            `  set but NOT checked (declaring module absent, or stubbed): ${r.checked.filter(sunk).join(", ")}` +
            (c.needInputs.length ? `\n  not evaluated (needs a flake input): ${c.needInputs.join(", ")}` : ""),
        );
        expect(r.checked).toEqual(
          expect.arrayContaining([
            "services.openssh.ports",
            "services.openssh.settings",
            "networking.firewall.allowedTCPPorts",
            "users.users",
          ]),
        );
      },
    );

    // The evaluation must be able to fail: each mistake below is one the real NixOS would reject.
    const mistakes: Array<{ what: string; module: string; error: RegExp }> = [
      {
        what: "a misspelt option",
        module: "{ services.openssh.setings.PasswordAuthentication = false; }",
        error: /services\.openssh\.setings.*does not exist|does not exist.*services\.openssh\.setings/s,
      },
      {
        what: "a misspelt firewall option",
        module: "{ networking.firewall.allowedTCPPort = [ 22 ]; }",
        error: /networking\.firewall\.allowedTCPPort' does not exist|allowedTCPPort.*does not exist/s,
      },
      {
        what: "a misspelt user option",
        module: "{ users.users.alice.isNormalUsr = true; }",
        error: /users\.users\.alice\.isNormalUsr' does not exist|isNormalUsr.*does not exist/s,
      },
      {
        what: "a wrong type",
        module: '{ services.openssh.ports = [ "2222" ]; }',
        error: /services\.openssh\.ports.*is not of type|is not of type.*port/s,
      },
      {
        what: "a value outside an enum",
        module: '{ services.openssh.settings.PermitRootLogin = "maybe"; }',
        error: /PermitRootLogin.*is not of type/s,
      },
      {
        what: "a conflict at the same priority",
        module: "{ services.openssh.settings.PasswordAuthentication = true; services.fail2ban.enable = true; }",
        error: /conflicting definition values/,
      },
    ];
    it.each(mistakes.map((m) => [m.what, m] as const))("fails on %s, naming the option", (_what, m) => {
      const base = CASES.find((c) => c.name.includes("base"));
      expect(base, "a golden base flake").toBeDefined();
      const dir = mkdtempSync(join(work, "mistake-"));
      const file = join(dir, "mistake.nix");
      writeFileSync(file, m.module + "\n");
      // the base host's modules, with password auth off in host.json, and without lockdown.nix
      // (its mkForce would win over the conflicting definition)
      const files = (base as HostCase).files
        .filter((f) => /\/(nixnode|network)\.nix$/.test(f))
        .map((f) => {
          copyFileSync(f, join(dir, basename(f)));
          return join(dir, basename(f));
        });
      const host = JSON.parse(
        readFileSync(join(dirnameOf((base as HostCase).files[0] as string), "host.json"), "utf8"),
      );
      host.ssh.passwordAuthentication = false;
      writeFileSync(join(dir, "host.json"), JSON.stringify(host));
      let error = "";
      try {
        evalAgainstNixosOptions([...files, file], { hostJson: join(dir, "host.json") });
      } catch (e) {
        error = nixError(e);
      }
      console.log(`${m.what}: ${error.split("\n").find((l) => /error:/.test(l)) ?? error}`);
      expect(error).toMatch(m.error);
    });
  },
);

const dirnameOf = (f: string) => f.slice(0, f.lastIndexOf("/"));
