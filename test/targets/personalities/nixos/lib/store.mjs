// The nixos personality's store and profiles: `nix build` of the flake's toplevel (from host.json),
// generations under /nix/var/nix/profiles, and `nix-env -p … --set/--switch-generation/--list-generations`.
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { DIR, KNOBS, LOCK, NODE, PROFILE, PROFILES, SHIM, die, readText, relink, run } from "./common.mjs";

// ---------------------------------------------------------------- store, profiles
/**
 * The services this system starts at boot, as $toplevel/etc/systemd/system/multi-user.target.wants
 * lists them on NixOS (what a switch's summary compares): the ones the stand-in really runs (sshd,
 * the firewall, fail2ban), systemd-networkd (network.nix enables it), and the test knob's extras.
 */
export function wantedUnits(host, extraUnits = "") {
  return [
    "sshd.service",
    "systemd-networkd.service",
    ...(host.firewall?.enable ? ["firewall.service"] : []),
    ...(host.fail2ban?.enable ? ["fail2ban.service"] : []),
    ...extraUnits
      .split(/\s+/)
      .filter((u) => /^[A-Za-z0-9@_.-]+$/.test(u))
      .map((u) => (u.endsWith(".service") ? u : `${u}.service`)),
  ];
}

/** `lockdownNix`: the text of the flake's hosts/<host>/lockdown.nix when the build had one, else null. */
export function makeToplevel(host, failUnits = "", lockdownNix = null, extraUnits = "") {
  const json = JSON.stringify(host, null, 2) + "\n";
  const units = wantedUnits(host, extraUnits);
  const hash = createHash("sha256")
    .update(json)
    .update(failUnits)
    .update(units.join(" "))
    .update(lockdownNix === null ? "" : `lockdown.nix\0${lockdownNix}`)
    .digest("hex")
    .slice(0, 32);
  const top = `/nix/store/${hash}-nixos-system-${host.hostname}-${host.stateVersion ?? "25.11"}`;
  if (existsSync(top)) return top;
  mkdirSync(join(top, "bin"), { recursive: true });
  writeFileSync(join(top, "host.json"), json);
  writeFileSync(join(top, "nixos-version"), `${host.stateVersion ?? "25.11"}.20251120.1a2b3c4 (Xantusia)\n`);
  if (failUnits) writeFileSync(join(top, "test-fail-units"), failUnits);
  // activation reads it: lockdown.nix changes what sshd gets (see desired.mjs)
  if (lockdownNix !== null) writeFileSync(join(top, "lockdown.nix"), lockdownNix);
  const wants = join(top, "etc/systemd/system/multi-user.target.wants");
  mkdirSync(wants, { recursive: true });
  for (const u of units) {
    writeFileSync(join(top, "etc/systemd/system", u), `[Unit]\nDescription=${u} (test stand-in)\n`);
    symlinkSync(`../${u}`, join(wants, u));
  }
  // like the real one, it takes the switch lock and WAITS for it
  writeFileSync(
    join(top, "bin/switch-to-configuration"),
    `#!/bin/sh\nmkdir -p /run/nixos\nexec flock -o ${LOCK} '${NODE}' '${SHIM}' '${DIR}' stc '${top}' "$@"\n`,
  );
  chmodSync(join(top, "bin/switch-to-configuration"), 0o755);
  return top;
}

export function generations() {
  if (!existsSync(PROFILES)) return [];
  return readdirSync(PROFILES)
    .map((n) => /^system-(\d+)-link$/.exec(n))
    .filter(Boolean)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
export const currentGeneration = () => Number(/system-(\d+)-link/.exec(readlinkSync(PROFILE))?.[1] ?? 0);

export function setProfile(top) {
  const gens = generations();
  const last = gens.length ? gens[gens.length - 1] : 0;
  if (last && realpathSync(`${PROFILES}/system-${last}-link`) === top) {
    relink(`system-${last}-link`, PROFILE);
    return last;
  }
  const n = last + 1;
  symlinkSync(top, `${PROFILES}/system-${n}-link`);
  relink(`system-${n}-link`, PROFILE);
  return n;
}

export function nixEnv(argv) {
  const p =
    argv.indexOf("-p") >= 0
      ? argv[argv.indexOf("-p") + 1]
      : argv.indexOf("--profile") >= 0
        ? argv[argv.indexOf("--profile") + 1]
        : null;
  if (p !== PROFILE) die(`nix-env (test stand-in): only -p ${PROFILE} is supported, got ${p}`);
  const opt = (name) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);
  if (opt("--set") !== undefined) {
    const top = realpathSync(opt("--set"));
    if (!existsSync(join(top, "bin/switch-to-configuration"))) die(`error: path '${top}' is not a NixOS system`);
    setProfile(top);
    return;
  }
  const sw = opt("--switch-generation") ?? opt("-G");
  if (sw !== undefined) {
    if (!generations().includes(Number(sw))) die(`error: generation ${sw} does not exist`);
    const from = currentGeneration();
    relink(`system-${Number(sw)}-link`, PROFILE);
    process.stderr.write(`switching profile from version ${from} to ${sw}\n`);
    return;
  }
  if (argv.includes("--rollback")) {
    const cur = currentGeneration();
    const prev = generations()
      .filter((g) => g < cur)
      .pop();
    if (!prev) die("error: no generation older than the current one");
    relink(`system-${prev}-link`, PROFILE);
    process.stderr.write(`switching profile from version ${cur} to ${prev}\n`);
    return;
  }
  if (argv.includes("--list-generations")) {
    const cur = currentGeneration();
    for (const g of generations())
      process.stdout.write(`  ${String(g).padStart(3)}   2026-11-23 00:00:00${g === cur ? "   (current)" : ""}\n`);
    return;
  }
  die(`nix-env (test stand-in): unsupported arguments: ${argv.join(" ")}`);
}

// ---------------------------------------------------------------- nix build (the flake "build")
export function nixBuild(argv) {
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    if (["--extra-experimental-features", "--experimental-features", "-o", "--out-link"].includes(argv[i])) i++;
    else if (!argv[i].startsWith("-")) positional.push(argv[i]);
  }
  if (positional[0] !== "build") die(`nix (test stand-in): only \`nix build\` is supported, got: ${argv.join(" ")}`);
  const rest = positional.slice(1);
  if (!argv.includes("--print-out-paths")) die("nix (test stand-in): the tool must use --print-out-paths");
  if (rest.length !== 1) die(`error: expected one installable, got ${rest.length}`);
  const m = /^(?:path:)?([^#]+)#nixosConfigurations\.([A-Za-z0-9_-]+)\.config\.system\.build\.toplevel$/.exec(rest[0]);
  if (!m) die(`error: unsupported installable '${rest[0]}'`);
  const [, flake, host] = m;
  if (!existsSync(join(flake, "flake.nix"))) die(`error: path '${flake}/flake.nix' does not exist`);
  const hostDir = join(flake, "hosts", host);
  if (!existsSync(join(hostDir, "host.json")))
    die(`error: flake 'path:${flake}' does not provide attribute 'nixosConfigurations.${host}'`);
  // the Nix files must at least parse, as real Nix would insist
  for (const f of [
    join(flake, "flake.nix"),
    ...readdirSync(hostDir)
      .filter((n) => n.endsWith(".nix"))
      .map((n) => join(hostDir, n)),
  ]) {
    const r = run("nix-instantiate", ["--parse", f]);
    if (r.code !== 0 && !/not found|ENOENT/.test(r.stderr)) die(`error: while evaluating ${f}:\n${r.stderr}`);
  }
  let host_;
  try {
    host_ = JSON.parse(readFileSync(join(hostDir, "host.json"), "utf8"));
  } catch (e) {
    die(`error: while parsing JSON from ${join(hostDir, "host.json")}: ${e.message}`);
  }
  process.stderr.write(`building the system configuration...\n`);
  const lockdownNix = existsSync(join(hostDir, "lockdown.nix"))
    ? readFileSync(join(hostDir, "lockdown.nix"), "utf8")
    : null;
  process.stdout.write(
    makeToplevel(host_, readText(join(KNOBS, "fail-unit")), lockdownNix, readText(join(KNOBS, "extra-units"))) + "\n",
  );
}
