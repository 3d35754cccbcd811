// The nixos personality's systemd surface: `systemd-run --unit … [--on-active=…]` starts detached
// processes (they outlive the SSH session, as transient units do) recorded under DIR/units;
// `systemctl stop|is-active|is-system-running|list-units|list-timers|status|reboot` reads and ends them.
// The services a configuration runs: the active toplevel's multi-user.target.wants, plus a test knob
// (DIR/nixos-test/units.json, setup.ts `unitsAfterSwitch`): units active, units failed whatever is
// active, and units that fail once the system runs another toplevel than the one active when the
// knob was set (a service the new configuration breaks after switch-to-configuration returned, as
// a crashing Type=simple unit does); `is-system-running` is "degraded" while any unit is failed and
// may say "starting" for a while after such a switch.
import { spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { DIR, KNOBS, UNITS, die, readText } from "./common.mjs";

// ---------------------------------------------------------------- the configuration's services (knob)
const CURRENT = "/run/current-system";
function knob() {
  const text = readText(join(KNOBS, "units.json"));
  if (!text) return null;
  const k = JSON.parse(text);
  let current = "";
  try {
    current = realpathSync(CURRENT);
  } catch {
    current = "";
  }
  const switched = Boolean(k.baseline) && current !== k.baseline;
  let since = Infinity;
  try {
    since = Date.now() - lstatSync(CURRENT).mtimeMs;
  } catch {
    since = Infinity;
  }
  return { ...k, switched, starting: switched && since < (k.startingSecAfterSwitch ?? 0) * 1000 };
}

/** unit -> "active" | "failed", as the active configuration would have them. */
function serviceStates() {
  const k = knob();
  const states = new Map();
  // the units the active toplevel starts (store.mjs writes its multi-user.target.wants) run
  const wants = join(CURRENT, "etc/systemd/system/multi-user.target.wants");
  if (existsSync(wants)) for (const u of readdirSync(wants)) states.set(u, "active");
  if (!k) return states;
  for (const u of k.active ?? []) states.set(norm(u), "active");
  if (k.switched) for (const u of k.failAfterSwitch ?? []) states.set(norm(u), "failed");
  for (const u of k.failed ?? []) states.set(norm(u), "failed");
  return states;
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
export function unitState(u) {
  u = norm(u);
  const service = serviceStates().get(u);
  if (service) return service;
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

export function systemdRun(argv) {
  let unit = null;
  let onActive = null;
  let quiet = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
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
      : spawn(
          "sh",
          [
            "-c",
            `sleep "$1"; shift; : > "$1"; shift; exec "$@"`,
            "sh",
            String(sec),
            join(UNITS, `${unit}.fired`),
            ...command,
          ],
          { detached: true, stdio: ["ignore", out, out] },
        );
  writeFileSync(unitFile(`${unit}.${kind}`), JSON.stringify({ pid: child.pid, command, started: Date.now() }));
  child.unref();
  if (!quiet) process.stderr.write(`Running ${kind === "timer" ? "timer" : "as unit"}: ${unit}.${kind}\n`);
}

export function systemctl(argv) {
  const [verb, ...units] = argv.filter((a) => !a.startsWith("-"));
  const quiet = argv.includes("--quiet") || argv.includes("-q");
  if (verb === "is-system-running") {
    const k = knob();
    const state = k?.starting ? "starting" : [...serviceStates().values()].includes("failed") ? "degraded" : "running";
    process.stdout.write(`${state}\n`);
    process.exit(state === "running" ? 0 : 1);
  }
  if (verb === "list-units") {
    // `--state=failed` / `--state=active`, `--type=service`; printed as --no-legend --plain does
    const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
    const want = opt("state");
    const type = opt("type");
    const all = new Map(serviceStates());
    if (existsSync(UNITS))
      for (const f of readdirSync(UNITS).filter((f) => f.endsWith(".json"))) {
        const u = f.slice(0, -5);
        if (!all.has(u)) all.set(u, unitState(u));
      }
    for (const [u, st] of [...all].sort()) {
      if (want && st !== want) continue;
      if (type && !u.endsWith(`.${type}`)) continue;
      process.stdout.write(`${u} loaded ${st} ${st === "active" ? "running" : st} ${u}\n`);
    }
    return;
  }
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
    const timers = readdirSync(UNITS)
      .filter((f) => f.endsWith(".timer.json"))
      .map((f) => f.slice(0, -5))
      .filter((t) => unitState(t) === "active");
    process.stdout.write(
      `NEXT LEFT LAST PASSED UNIT ACTIVATES\n${timers.map((t) => `- - - - ${t} ${t.replace(/\.timer$/, ".service")}`).join("\n")}\n${timers.length} timers listed.\n`,
    );
    return;
  }
  if (verb === "status") {
    for (const u of units) process.stdout.write(`● ${norm(u)}\n   Active: ${unitState(u)}\n`);
    return;
  }
  die(`systemctl (test stand-in): unsupported verb ${verb}`);
}
