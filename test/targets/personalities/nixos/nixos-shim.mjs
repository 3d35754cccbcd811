// TEST-ONLY stand-in for the NixOS activation surface of a throwaway target. It runs INSIDE the
// target (via the sh wrappers in the target's shim dir, first on sshd's PATH) and applies the
// tool's own data (host.json) FOR REAL: the target's real sshd gets the ports and auth settings,
// the real fail2ban the jail and ignore list, the target's iptables the firewall.
//   node nixos-shim.mjs DIR setup [host.json]     install the personality (generation 1)
//   node nixos-shim.mjs DIR nix build ...          `nix build --print-out-paths path:F#nixosConfigurations.H.config.system.build.toplevel`
//   node nixos-shim.mjs DIR stc TOPLEVEL ACTION    a toplevel's bin/switch-to-configuration (under the switch lock)
//   node nixos-shim.mjs DIR nix-env|systemd-run|systemctl|nixos-version ...
//   node nixos-shim.mjs DIR boot                   reboot.d hook: activate the boot default
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SHIM = fileURLToPath(import.meta.url);
const NODE = process.execPath;
const [DIR, cmd, ...args] = process.argv.slice(2);
const PROFILES = "/nix/var/nix/profiles";
const PROFILE = `${PROFILES}/system`;
const LOCK = "/run/nixos/switch-to-configuration.lock";
const UNITS = join(DIR, "units");
const F2B = join(DIR, "fail2ban");
const KNOBS = join(DIR, "nixos-test");

const run = (file, argv, opts = {}) => {
  const r = spawnSync(file, argv, { encoding: "utf8", ...opts });
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
};
const die = (msg, code = 1) => {
  process.stderr.write(msg.endsWith("\n") ? msg : msg + "\n");
  process.exit(code);
};
const readText = (p, dflt = "") => (existsSync(p) ? readFileSync(p, "utf8") : dflt);
const relink = (target, link) => {
  const tmp = `${link}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
};

// ---------------------------------------------------------------- setup
function setup(hostJsonPath) {
  const marker = "/nix/.nixnode-test-personality";
  if (!existsSync(marker)) {
    mkdirSync(join(DIR, "nix/store"), { recursive: true });
    mkdirSync(join(DIR, "nix/var/nix/profiles"), { recursive: true });
    writeFileSync(join(DIR, "nix/.nixnode-test-personality"), DIR + "\n");
    mkdirSync("/nix", { recursive: true });
    const m = run("mount", ["--bind", join(DIR, "nix"), "/nix"]);
    if (m.code !== 0) die(`mount /nix: ${m.stderr}`);
  }
  mkdirSync(KNOBS, { recursive: true });
  mkdirSync(UNITS, { recursive: true });
  mkdirSync("/run/nixos", { recursive: true });
  if (!existsSync(join(DIR, "nixos-sshd_config.base"))) cpSync("/etc/ssh/sshd_config", join(DIR, "nixos-sshd_config.base"));
  // rm first: on the host /etc/os-release is a symlink into /usr/lib, which the target does not own
  rmSync("/etc/os-release", { force: true });
  writeFileSync("/etc/os-release", 'ANSI_COLOR="0;38;2;126;186;228"\nBUILD_ID="25.11.20251120.1a2b3c4"\nID=nixos\nNAME=NixOS\nPRETTY_NAME="NixOS 25.11 (Xantusia)"\nVERSION="25.11 (Xantusia)"\nVERSION_CODENAME=xantusia\nVERSION_ID="25.11"\n');
  writeFileSync("/etc/NIXOS", "");
  // A target has no route to a name server: let lookups fail at once on loopback instead of
  // timing out (fail2ban's ignoreself and reverse lookups would stall its filter for 10 s each)
  rmSync("/etc/resolv.conf", { force: true });
  writeFileSync("/etc/resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  // NixOS maps its own host name in /etc/hosts (networking.hosts); without it fail2ban's ignoreself
  // resolves the name through DNS, which a target cannot reach, and its filter stalls for seconds
  const hostname = run("hostname", []).stdout.trim();
  if (hostname && !readText("/etc/hosts").includes(` ${hostname}`)) writeFileSync("/etc/hosts", `${readText("/etc/hosts")}127.0.0.2 ${hostname}\n::1 ${hostname}\n`);
  const shimDir = "/usr/local/sbin";
  for (const name of ["nix", "nix-env", "systemd-run", "systemctl", "nixos-version"]) {
    writeFileSync(join(shimDir, name), `#!/bin/sh\nexec '${NODE}' '${SHIM}' '${DIR}' ${name} "$@"\n`);
    chmodSync(join(shimDir, name), 0o755);
  }
  mkdirSync(join(DIR, "reboot.d"), { recursive: true });
  writeFileSync(join(DIR, "reboot.d/50-nixos-boot-default"), `#!/bin/sh\nexec '${NODE}' '${SHIM}' '${DIR}' boot\n`);
  chmodSync(join(DIR, "reboot.d/50-nixos-boot-default"), 0o755);
  const host = hostJsonPath ? JSON.parse(readFileSync(hostJsonPath, "utf8")) : initialHostData();
  const top = makeToplevel(host);
  setProfile(top);
  const r = apply(top, { restartSshd: false }); // the harness (or the reboot) starts sshd next
  relink(top, "/run/booted-system");
  if (r.failed.length) die(`setup: units failed: ${r.failed.join(" ")}`, 4);
  process.stdout.write(`${top}\n`);
}

/** What a fresh NixOS install from our flake looks like: sshd on the port it has now, firewall on. */
function initialHostData() {
  const base = readFileSync(join(DIR, "nixos-sshd_config.base"), "utf8");
  const ports = [...base.matchAll(/^\s*Port\s+(\d+)/gim)].map((m) => Number(m[1]));
  const pw = /^\s*PasswordAuthentication\s+no/im.test(base) ? false : true;
  const prl = /^\s*PermitRootLogin\s+(\S+)/im.exec(base)?.[1] ?? "yes";
  return {
    schema: 1, hostname: run("hostname", []).stdout.trim() || "nixos", system: "x86_64-linux", stateVersion: "25.11", timezone: "UTC", profile: "base",
    ssh: { ports: ports.length ? ports : [22], passwordAuthentication: pw, permitRootLogin: prl, authorizedKeys: [], adminUser: null, hostKeyFingerprint: null },
    firewall: { enable: true, allowedTCPPorts: ports.length ? ports : [22], allowedUDPPorts: [] },
    fail2ban: { enable: false, ignoreIP: [], maxretry: 5, bantime: "10m" },
    lockdown: { stage: "none", port: 22 }, network: { interfaces: [], dns: [] }, boot: { mode: "bios" },
  };
}

// ---------------------------------------------------------------- store, profiles
function makeToplevel(host, failUnits = "") {
  const json = JSON.stringify(host, null, 2) + "\n";
  const hash = createHash("sha256").update(json).update(failUnits).digest("hex").slice(0, 32);
  const top = `/nix/store/${hash}-nixos-system-${host.hostname}-${host.stateVersion ?? "25.11"}`;
  if (existsSync(top)) return top;
  mkdirSync(join(top, "bin"), { recursive: true });
  writeFileSync(join(top, "host.json"), json);
  writeFileSync(join(top, "nixos-version"), `${host.stateVersion ?? "25.11"}.20251120.1a2b3c4 (Xantusia)\n`);
  if (failUnits) writeFileSync(join(top, "test-fail-units"), failUnits);
  // like the real one, it takes the switch lock and WAITS for it
  writeFileSync(join(top, "bin/switch-to-configuration"), `#!/bin/sh\nmkdir -p /run/nixos\nexec flock -o ${LOCK} '${NODE}' '${SHIM}' '${DIR}' stc '${top}' "$@"\n`);
  chmodSync(join(top, "bin/switch-to-configuration"), 0o755);
  return top;
}

function generations() {
  if (!existsSync(PROFILES)) return [];
  return readdirSync(PROFILES)
    .map((n) => /^system-(\d+)-link$/.exec(n))
    .filter(Boolean)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
const currentGeneration = () => Number(/system-(\d+)-link/.exec(readlinkSync(PROFILE))?.[1] ?? 0);

function setProfile(top) {
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

function nixEnv(argv) {
  const p = argv.indexOf("-p") >= 0 ? argv[argv.indexOf("-p") + 1] : argv.indexOf("--profile") >= 0 ? argv[argv.indexOf("--profile") + 1] : null;
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
    const prev = generations().filter((g) => g < cur).pop();
    if (!prev) die("error: no generation older than the current one");
    relink(`system-${prev}-link`, PROFILE);
    process.stderr.write(`switching profile from version ${cur} to ${prev}\n`);
    return;
  }
  if (argv.includes("--list-generations")) {
    const cur = currentGeneration();
    for (const g of generations()) process.stdout.write(`  ${String(g).padStart(3)}   2026-11-23 00:00:00${g === cur ? "   (current)" : ""}\n`);
    return;
  }
  die(`nix-env (test stand-in): unsupported arguments: ${argv.join(" ")}`);
}

// ---------------------------------------------------------------- nix build (the flake "build")
function nixBuild(argv) {
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
  if (!existsSync(join(hostDir, "host.json"))) die(`error: flake 'path:${flake}' does not provide attribute 'nixosConfigurations.${host}'`);
  // the Nix files must at least parse, as real Nix would insist
  for (const f of [join(flake, "flake.nix"), ...readdirSync(hostDir).filter((n) => n.endsWith(".nix")).map((n) => join(hostDir, n))]) {
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
  process.stdout.write(makeToplevel(host_, readText(join(KNOBS, "fail-unit"))) + "\n");
}

// ---------------------------------------------------------------- activation
function renderSshdConfig(host, broken) {
  const base = readFileSync(join(DIR, "nixos-sshd_config.base"), "utf8")
    .split("\n")
    .filter((l) => !/^\s*(Port|ListenAddress|PasswordAuthentication|KbdInteractiveAuthentication|ChallengeResponseAuthentication|PermitRootLogin|AuthorizedKeysFile)\s/i.test(l));
  const ours = [
    "# written by the nixos test personality from the active toplevel's host.json",
    ...host.ssh.ports.map((p) => `Port ${p}`),
    `PasswordAuthentication ${host.ssh.passwordAuthentication ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    `PermitRootLogin ${host.ssh.permitRootLogin}`,
    "AuthorizedKeysFile %h/.ssh/authorized_keys /etc/ssh/authorized_keys.d/%u",
    ...(broken ? ["NixnodeTestBrokenSetting yes"] : []),
  ];
  return [...ours, ...base].join("\n") + "\n";
}

function applyFirewall(host) {
  const ipt = (...a) => run("iptables", a);
  if (ipt("-n", "-L", "nixos-fw").code !== 0) ipt("-N", "nixos-fw");
  ipt("-F", "nixos-fw");
  if (host.firewall.enable) {
    ipt("-A", "nixos-fw", "-i", "lo", "-j", "ACCEPT");
    ipt("-A", "nixos-fw", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
    ipt("-A", "nixos-fw", "-p", "icmp", "-j", "ACCEPT");
    const ports = [...new Set([...host.firewall.allowedTCPPorts, ...host.ssh.ports])];
    for (const p of ports) ipt("-A", "nixos-fw", "-p", "tcp", "--dport", String(p), "-j", "ACCEPT");
    ipt("-A", "nixos-fw", "-j", "DROP");
  }
  if (ipt("-C", "INPUT", "-j", "nixos-fw").code !== 0) ipt("-A", "INPUT", "-j", "nixos-fw");
}

const f2b = { conf: join(F2B, "conf"), sock: join(F2B, "fail2ban.sock"), pid: join(F2B, "fail2ban.pid"), log: join(F2B, "fail2ban.log") };
const f2bPing = () => existsSync(f2b.sock) && run("fail2ban-client", ["-s", f2b.sock, "ping"]).code === 0;

function applyFail2ban(host) {
  if (!host.fail2ban.enable) {
    if (f2bPing()) run("fail2ban-client", ["-s", f2b.sock, "stop"]);
    return true;
  }
  if (!existsSync(f2b.conf)) {
    cpSync("/etc/fail2ban", f2b.conf, { recursive: true });
    rmSync(join(f2b.conf, "jail.d/defaults-debian.conf"), { force: true });
    writeFileSync(join(f2b.conf, "fail2ban.local"), `[Definition]\nlogtarget = ${f2b.log}\nsocket = ${f2b.sock}\npidfile = ${f2b.pid}\ndbfile = :memory:\n`);
  }
  const ignore = ["127.0.0.1/8", "::1", ...host.fail2ban.ignoreIP].join(" ");
  writeFileSync(
    join(f2b.conf, "jail.local"),
    `[DEFAULT]\nignoreip = ${ignore}\nmaxretry = ${host.fail2ban.maxretry}\nbantime = ${host.fail2ban.bantime}\nbantime.increment = true\n` +
      `banaction = iptables-multiport[blocktype=DROP]\nbackend = polling\n\n[sshd]\nenabled = true\nfilter = sshd[__prefix_line="", mode=normal]\n` +
      `datepattern = {NONE}\nlogpath = ${DIR}/sshd.log tail\nport = ${host.ssh.ports.join(",")}\n`,
  );
  if (f2bPing()) return run("fail2ban-client", ["-c", f2b.conf, "-s", f2b.sock, "reload"]).code === 0;
  rmSync(f2b.sock, { force: true });
  const child = spawn("fail2ban-server", ["-f", "-x", "-c", f2b.conf, "-s", f2b.sock, "-p", f2b.pid, "--logtarget", f2b.log], { detached: true, stdio: "ignore" });
  child.unref();
  for (let i = 0; i < 150; i++) {
    if (f2bPing()) return true;
    run("sleep", ["0.1"]);
  }
  return false;
}

/** Applies a toplevel like switch-to-configuration does; returns the units that failed. */
function apply(top, { restartSshd }) {
  const host = JSON.parse(readFileSync(join(top, "host.json"), "utf8"));
  const failUnits = readText(join(top, "test-fail-units")).split(/\s+/).filter(Boolean);
  const failed = [];
  mkdirSync("/etc/ssh/authorized_keys.d", { recursive: true });
  writeFileSync("/etc/ssh/authorized_keys.d/root", host.ssh.authorizedKeys.map((k) => k + "\n").join(""), { mode: 0o644 });
  writeFileSync("/etc/ssh/sshd_config", renderSshdConfig(host, failUnits.includes("sshd")));
  applyFirewall(host);
  if (!applyFail2ban(host)) failed.push("fail2ban.service");
  relink(top, "/run/current-system");
  if (restartSshd) {
    const r = run(join(DIR, "start-sshd"), []);
    if (r.code !== 0) {
      process.stderr.write(r.stderr);
      failed.push("sshd.service");
    }
  }
  for (const u of failUnits) if (u !== "sshd" && !failed.includes(`${u}.service`)) failed.push(`${u}.service`);
  return { failed };
}

function stc(top, action) {
  if (!["test", "switch", "boot", "dry-activate"].includes(action)) die(`Usage: ${top}/bin/switch-to-configuration [switch|boot|test|dry-activate]`);
  if (action === "dry-activate") return;
  if (action === "boot" || action === "switch") {
    if (realpathSync(PROFILE) !== top) process.stderr.write("warning: this configuration is not the system profile's; the boot menu lists the profile\n");
  }
  if (action === "boot") return;
  process.stderr.write("activating the configuration...\nrestarting sshd.service\n");
  const { failed } = apply(top, { restartSshd: true });
  if (failed.length) die(`warning: the following units failed: ${failed.join(", ")}`, 4);
}

function boot() {
  // a reboot empties /run: our supervisors' state, the switch lock, unit records
  rmSync("/run/nixnode-lockdown", { recursive: true, force: true });
  rmSync(LOCK, { force: true });
  rmSync(UNITS, { recursive: true, force: true });
  mkdirSync(UNITS, { recursive: true });
  rmSync(f2b.sock, { force: true });
  const top = realpathSync(PROFILE);
  apply(top, { restartSshd: false });
  relink(top, "/run/booted-system");
}

// ---------------------------------------------------------------- systemd-run / systemctl
const unitFile = (u) => join(UNITS, u.replace(/\//g, "_") + ".json");
const norm = (u) => (/\.(service|timer)$/.test(u) ? u : `${u}.service`);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return !/^State:\s*Z/m.test(readText(`/proc/${pid}/status`));
  } catch {
    return false;
  }
};
function unitState(u) {
  u = norm(u);
  const base = u.replace(/\.(service|timer)$/, "");
  for (const key of [`${base}.service`, `${base}.timer`]) {
    if (!existsSync(unitFile(key))) continue;
    const rec = JSON.parse(readFileSync(unitFile(key), "utf8"));
    const running = alive(rec.pid);
    const fired = existsSync(join(UNITS, `${base}.fired`));
    if (u.endsWith(".timer")) return key.endsWith(".timer") && running && !fired ? "active" : "inactive";
    if (key.endsWith(".service")) return running ? "active" : "inactive";
    return running && fired ? "active" : "inactive";
  }
  return "inactive";
}

function systemdRun(argv) {
  let unit = null;
  let onActive = null;
  let quiet = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { i++; break; }
    if (!a.startsWith("-")) break;
    const [k, v] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const val = () => (v !== undefined ? v : argv[++i]);
    if (k === "--unit" || k === "-u") unit = val();
    else if (k === "--on-active") onActive = val();
    else if (k === "--quiet" || k === "-q") quiet = true;
    else if (["--collect", "-G", "--no-block", "--same-dir", "--pipe"].includes(k)) continue;
    else if (["--property", "-p", "--setenv", "-E", "--description", "--working-directory"].includes(k)) val();
    else die(`systemd-run (test stand-in): unsupported option ${a}`);
  }
  const command = argv.slice(i);
  if (!command.length) die("Command line to execute required.");
  unit = unit ? unit.replace(/\.(service|timer)$/, "") : `run-u${process.pid}`;
  const kind = onActive !== null ? "timer" : "service";
  if (unitState(`${unit}.${kind}`) === "active" || (kind === "timer" && unitState(`${unit}.service`) === "active")) {
    die(`Failed to start transient ${kind} unit: Unit ${unit}.${kind} was already loaded or has a fragment file.`);
  }
  rmSync(join(UNITS, `${unit}.fired`), { force: true });
  mkdirSync(UNITS, { recursive: true });
  const out = openSync(join(UNITS, `${unit}.log`), "a");
  const sec = onActive === null ? null : Number(String(onActive).replace(/s$/, ""));
  if (sec !== null && !Number.isFinite(sec)) die(`Failed to parse timer value: ${onActive}`);
  const child =
    sec === null
      ? spawn(command[0], command.slice(1), { detached: true, stdio: ["ignore", out, out] })
      : spawn("sh", ["-c", `sleep "$1"; shift; : > "$1"; shift; exec "$@"`, "sh", String(sec), join(UNITS, `${unit}.fired`), ...command], { detached: true, stdio: ["ignore", out, out] });
  writeFileSync(unitFile(`${unit}.${kind}`), JSON.stringify({ pid: child.pid, command, started: Date.now() }));
  child.unref();
  if (!quiet) process.stderr.write(`Running ${kind === "timer" ? "timer" : "as unit"}: ${unit}.${kind}\n`);
}

function systemctl(argv) {
  const [verb, ...units] = argv.filter((a) => !a.startsWith("-"));
  const quiet = argv.includes("--quiet") || argv.includes("-q");
  if (verb === "is-system-running") return void process.stdout.write("running\n");
  if (verb === "reboot") {
    spawn(join(DIR, "reboot"), [], { detached: true, stdio: "ignore" }).unref();
    return;
  }
  if (verb === "is-active") {
    const states = units.map(unitState);
    if (!quiet) process.stdout.write(states.join("\n") + "\n");
    process.exit(states.every((s) => s === "active") ? 0 : 3);
  }
  if (verb === "stop") {
    for (const u of units.map(norm)) {
      if (!existsSync(unitFile(u))) continue;
      const rec = JSON.parse(readFileSync(unitFile(u), "utf8"));
      if (alive(rec.pid)) {
        try {
          process.kill(-rec.pid, "SIGTERM");
        } catch {
          process.kill(rec.pid, "SIGTERM");
        }
      }
      rmSync(unitFile(u), { force: true });
    }
    return;
  }
  if (verb === "list-timers") {
    const timers = readdirSync(UNITS).filter((f) => f.endsWith(".timer.json")).map((f) => f.slice(0, -5)).filter((t) => unitState(t) === "active");
    process.stdout.write(`NEXT LEFT LAST PASSED UNIT ACTIVATES\n${timers.map((t) => `- - - - ${t} ${t.replace(/\.timer$/, ".service")}`).join("\n")}\n${timers.length} timers listed.\n`);
    return;
  }
  if (verb === "status") {
    for (const u of units) process.stdout.write(`● ${norm(u)}\n   Active: ${unitState(u)}\n`);
    return;
  }
  die(`systemctl (test stand-in): unsupported verb ${verb}`);
}

// ---------------------------------------------------------------- dispatch
switch (cmd) {
  case "setup": setup(args[0]); break;
  case "nix": nixBuild(args); break;
  case "nix-env": nixEnv(args); break;
  case "stc": stc(args[0], args[1]); break;
  case "boot": boot(); break;
  case "systemd-run": systemdRun(args); break;
  case "systemctl": systemctl(args); break;
  case "nixos-version": process.stdout.write(readText("/run/current-system/nixos-version", "25.11 (Xantusia)\n")); break;
  default: die(`nixos-shim: unknown command ${cmd} (dir ${dirname(DIR)})`);
}
