// The nixos personality's activation: a toplevel's host.json applied FOR REAL to the target's sshd
// (config + listener restart via DIR/start-sshd), firewall (iptables), eth0's addresses and routes
// (network.mjs) and fail2ban (a real server);
// `switch-to-configuration test|switch|boot` and the reboot hook that re-activates the boot default.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIR, F2B, LOCK, PROFILE, UNITS, die, readText, relink, run } from "./common.mjs";
import { desiredFail2ban, desiredFirewall, desiredSshdSettings } from "./desired.mjs";
import { applyNetwork } from "./network.mjs";

// ---------------------------------------------------------------- activation
export function renderSshdConfig(sshd, broken) {
  const base = readFileSync(join(DIR, "nixos-sshd_config.base"), "utf8")
    .split("\n")
    .filter(
      (l) =>
        !/^\s*(Port|ListenAddress|PasswordAuthentication|KbdInteractiveAuthentication|ChallengeResponseAuthentication|PermitRootLogin|AuthorizedKeysFile|AllowUsers)\s/i.test(
          l,
        ),
    );
  const yesNo = (b) => (b ? "yes" : "no");
  const ours = [
    "# written by the nixos test personality from the active toplevel's host.json",
    ...sshd.ports.map((p) => `Port ${p}`),
    `PasswordAuthentication ${yesNo(sshd.PasswordAuthentication)}`,
    `KbdInteractiveAuthentication ${yesNo(sshd.KbdInteractiveAuthentication)}`,
    `PermitRootLogin ${sshd.PermitRootLogin}`,
    ...(sshd.AllowUsers ? [`AllowUsers ${sshd.AllowUsers.join(" ")}`] : []),
    "AuthorizedKeysFile %h/.ssh/authorized_keys /etc/ssh/authorized_keys.d/%u",
    ...(broken ? ["NixnodeTestBrokenSetting yes"] : []),
  ];
  return [...ours, ...base].join("\n") + "\n";
}

export function applyFirewall(fw) {
  const ipt = (...a) => run("iptables", a);
  if (ipt("-n", "-L", "nixos-fw").code !== 0) ipt("-N", "nixos-fw");
  ipt("-F", "nixos-fw");
  if (fw.enable) {
    ipt("-A", "nixos-fw", "-i", "lo", "-j", "ACCEPT");
    ipt("-A", "nixos-fw", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
    ipt("-A", "nixos-fw", "-p", "icmp", "-j", "ACCEPT");
    for (const p of fw.allowedTCPPorts) ipt("-A", "nixos-fw", "-p", "tcp", "--dport", String(p), "-j", "ACCEPT");
    for (const p of fw.allowedUDPPorts) ipt("-A", "nixos-fw", "-p", "udp", "--dport", String(p), "-j", "ACCEPT");
    ipt("-A", "nixos-fw", "-j", "DROP");
  }
  if (ipt("-C", "INPUT", "-j", "nixos-fw").code !== 0) ipt("-A", "INPUT", "-j", "nixos-fw");
}

const f2b = {
  conf: join(F2B, "conf"),
  sock: join(F2B, "fail2ban.sock"),
  pid: join(F2B, "fail2ban.pid"),
  log: join(F2B, "fail2ban.log"),
};
const f2bPing = () => existsSync(f2b.sock) && run("fail2ban-client", ["-s", f2b.sock, "ping"]).code === 0;

export function applyFail2ban(f) {
  if (!f.enable) {
    if (f2bPing()) run("fail2ban-client", ["-s", f2b.sock, "stop"]);
    return true;
  }
  if (!existsSync(f2b.conf)) {
    cpSync("/etc/fail2ban", f2b.conf, { recursive: true });
    rmSync(join(f2b.conf, "jail.d/defaults-debian.conf"), { force: true });
    writeFileSync(
      join(f2b.conf, "fail2ban.local"),
      `[Definition]\nlogtarget = ${f2b.log}\nsocket = ${f2b.sock}\npidfile = ${f2b.pid}\ndbfile = :memory:\n`,
    );
  }
  const sshd = f.jails.sshd;
  writeFileSync(
    join(f2b.conf, "jail.local"),
    `[DEFAULT]\nignoreip = ${f.ignoreIP.join(" ")}\nmaxretry = ${f.maxretry}\nbantime = ${f.bantime}\nbantime.increment = ${f.bantimeIncrement}\n` +
      `banaction = iptables-multiport[blocktype=DROP]\nbackend = polling\n\n[sshd]\nenabled = ${sshd.enabled}\nfilter = sshd[__prefix_line="", mode=${sshd.mode}]\n` +
      `datepattern = {NONE}\nlogpath = ${DIR}/sshd.log tail\nport = ${sshd.port}\n`,
  );
  if (f2bPing()) return run("fail2ban-client", ["-c", f2b.conf, "-s", f2b.sock, "reload"]).code === 0;
  rmSync(f2b.sock, { force: true });
  const child = spawn(
    "fail2ban-server",
    ["-f", "-x", "-c", f2b.conf, "-s", f2b.sock, "-p", f2b.pid, "--logtarget", f2b.log],
    { detached: true, stdio: "ignore" },
  );
  child.unref();
  for (let i = 0; i < 150; i++) {
    if (f2bPing()) return true;
    run("sleep", ["0.1"]);
  }
  return false;
}

/** Applies a toplevel like switch-to-configuration does; returns the units that failed. */
export function apply(top, { restartSshd }) {
  const host = JSON.parse(readFileSync(join(top, "host.json"), "utf8"));
  // the build recorded whether the flake's default.nix had lockdown.nix to import
  const modules = { lockdown: existsSync(join(top, "lockdown.nix")) };
  const failUnits = readText(join(top, "test-fail-units")).split(/\s+/).filter(Boolean);
  const failed = [];
  const sshd = desiredSshdSettings(host, modules);
  mkdirSync("/etc/ssh/authorized_keys.d", { recursive: true });
  for (const [user, keys] of Object.entries(sshd.authorizedKeys)) {
    // a user name from host.json becomes a file name: only what useradd would accept
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user))
      die(`host.json ssh.adminUser: ${JSON.stringify(user)} is not a user name`);
    writeFileSync(`/etc/ssh/authorized_keys.d/${user}`, keys.map((k) => k + "\n").join(""), { mode: 0o644 });
  }
  writeFileSync("/etc/ssh/sshd_config", renderSshdConfig(sshd, failUnits.includes("sshd")));
  applyFirewall(desiredFirewall(host, modules));
  applyNetwork(host);
  if (!applyFail2ban(desiredFail2ban(host))) failed.push("fail2ban.service");
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

export function stc(top, action) {
  if (!["test", "switch", "boot", "dry-activate"].includes(action))
    die(`Usage: ${top}/bin/switch-to-configuration [switch|boot|test|dry-activate]`);
  if (action === "dry-activate") return;
  if (action === "boot" || action === "switch") {
    if (realpathSync(PROFILE) !== top)
      process.stderr.write(
        "warning: this configuration is not the system profile's; the boot menu lists the profile\n",
      );
  }
  if (action === "boot") return;
  process.stderr.write("activating the configuration...\nrestarting sshd.service\n");
  const { failed } = apply(top, { restartSshd: true });
  if (failed.length) die(`warning: the following units failed: ${failed.join(", ")}`, 4);
}

export function boot() {
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
