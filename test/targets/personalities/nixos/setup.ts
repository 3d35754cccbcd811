// The `nixos` personality of a throwaway target (TEST ONLY): a private /nix with generations, the
// NixOS os-release, and stand-ins for nix build / switch-to-configuration / nix-env / systemd-run /
// systemctl / nixos-version that apply host.json FOR REAL to the target's sshd, fail2ban and
// firewall (nixos-shim.mjs, which runs inside the target). A reboot (dir/reboot) re-activates the
// profile's boot default through dir/reboot.d/50-nixos-boot-default.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Next to this file; when the harness is bundled (bench/), relative to the repository root (cwd).
export const NIXOS_SHIM =
  [
    fileURLToPath(new URL("./nixos-shim.mjs", import.meta.url)),
    join(process.cwd(), "test/targets/personalities/nixos/nixos-shim.mjs"),
  ].find((p) => existsSync(p)) ?? "nixos-shim.mjs (not found)";

export interface PersonalityHost {
  dir: string;
  exec(cmd: string, opts?: { input?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Installs the personality. Generation 1 is `hostJson` (a path on this machine, e.g. the flake's
 * hosts/<host>/host.json after an install) or, without it, the target's current sshd settings.
 */
export async function setupPersonality(t: PersonalityHost, opts: { hostJson?: string } = {}): Promise<void> {
  const r = await t.exec(
    `${q(process.execPath)} ${q(NIXOS_SHIM)} ${q(t.dir)} setup${opts.hostJson ? ` ${q(opts.hostJson)}` : ""}`,
  );
  if (r.code !== 0)
    throw new Error(`nixos personality setup failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
}

/** Test knob: the NEXT builds carry units that fail on activation ("sshd" = a config sshd rejects). */
export async function failUnitsInNextBuild(t: PersonalityHost, units: string[]): Promise<void> {
  const r = await t.exec(
    `mkdir -p ${q(t.dir)}/nixos-test && printf '%s\\n' ${units.map(q).join(" ")} > ${q(t.dir)}/nixos-test/fail-unit`,
  );
  if (r.code !== 0) throw new Error(r.stderr);
}

/** Reads the target's generations and what is active, the way a person would check. */
export async function nixosState(t: PersonalityHost): Promise<{ profileLink: string; current: string; boot: string }> {
  const r = await t.exec(
    "readlink /nix/var/nix/profiles/system; readlink -f /run/current-system; readlink -f /nix/var/nix/profiles/system",
  );
  const [profileLink = "", current = "", boot = ""] = r.stdout.trim().split("\n");
  return { profileLink, current, boot };
}

/**
 * Test knob: the services the configurations run (lib/units.mjs). `active` units are active;
 * `failed` are failed whatever runs (failed BEFORE a switch); `failAfterSwitch` are fine now and
 * fail once another toplevel than the current one is active (a service the next switch breaks
 * after switch-to-configuration returned); `startingSecAfterSwitch`: is-system-running says
 * "starting" that long after such a switch. Replaces the previous setting.
 */
export async function unitsAfterSwitch(
  t: PersonalityHost,
  k: { active?: string[]; failed?: string[]; failAfterSwitch?: string[]; startingSecAfterSwitch?: number },
): Promise<void> {
  const cur = await t.exec("readlink -f /run/current-system");
  const json = JSON.stringify({ ...k, baseline: cur.stdout.trim() });
  const r = await t.exec(`mkdir -p ${q(t.dir)}/nixos-test && cat > ${q(t.dir)}/nixos-test/units.json`, {
    input: json,
  });
  if (r.code !== 0) throw new Error(r.stderr);
}
