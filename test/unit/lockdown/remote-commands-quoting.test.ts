// Every command the lockdown sends to the target, run by a REAL /bin/sh in a sandbox: each program
// it calls is a stub that records its argv (NUL-separated), so the test sees the words the shell
// parsed. A hostile value (shell metacharacters, $(...), backticks, newlines, quotes, unicode) must
// arrive as exactly one word, verbatim, and the commands it smuggles in must never run (no marker
// file appears). Values that are numbers or a fixed set are refused before a command is built.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  REMOTE_FLAKE_DIR,
  STATE_ROOT,
  SYSTEM_PROFILE,
  ackCommand,
  buildCommand,
  cancelRebootCommand,
  launchSupervisorCommand,
  nackCommand,
  persistCommand,
  preflightScript,
  readStateCommand,
  switchLogCommand,
  unpackFlakeCommand,
} from "../../../src/lockdown/remote-commands";

const STUBS = [
  "rm",
  "mkdir",
  "tar",
  "nix",
  "nix-env",
  "systemctl",
  "systemd-run",
  "touch",
  "cat",
  "readlink",
  "flock",
  "ss",
  "awk",
  "head",
  "tail",
  "basename",
  "kill",
];

/** No slash in any of them: they are also used as a directory name (a store path's last part). */
const HOSTILE = [
  "x; touch m-semicolon",
  "$(touch m-dollar)",
  "`touch m-backtick`",
  "x\ntouch m-newline",
  'it\'s "quoted" \\ back',
  "ünïcødé 💥 ñ",
  "$HOME ${PATH} *",
  "-rf",
  "a  b\tc",
  "'",
  "x && touch m-and || touch m-or | touch m-pipe > m-redirect",
];

let sandbox = "";
let bin = "";
let log = "";

beforeAll(() => {
  sandbox = mkdtempSync(join(tmpdir(), "nn-quote-"));
  bin = join(sandbox, "bin");
  mkdirSync(bin);
  log = join(sandbox, "calls.log");
  for (const name of STUBS) {
    const p = join(bin, name);
    writeFileSync(p, `#!/bin/sh\nprintf '%s\\0' CALL "$(/usr/bin/basename "$0")" "$@" >> "$CALLS"\n`);
    chmodSync(p, 0o755);
  }
});
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

/** Runs `command` with the stubs first on PATH and the target's fixed folders moved into the sandbox. */
function run(command: string): { calls: string[][]; code: number | null; stderr: string } {
  writeFileSync(log, "");
  const root = join(sandbox, "root");
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, "run", "dual-port"), { recursive: true });
  mkdirSync(join(root, "run", "final"), { recursive: true });
  const sandboxed = command
    .split(STATE_ROOT)
    .join(join(root, "run"))
    .split(REMOTE_FLAKE_DIR)
    .join(join(root, "flake"))
    .split(SYSTEM_PROFILE)
    .join(join(root, "profile"));
  const r = spawnSync("/bin/sh", ["-c", sandboxed], {
    cwd: sandbox,
    env: { PATH: bin, CALLS: log, HOME: sandbox },
    encoding: "utf8",
    input: "",
  });
  const calls: string[][] = [];
  for (const word of readFileSync(log, "utf8").split("\0").slice(0, -1)) {
    if (word === "CALL") calls.push([]);
    else calls[calls.length - 1]!.push(word);
  }
  return { calls, code: r.status, stderr: r.stderr };
}

function noMarkers() {
  expect(readdirSync(sandbox).filter((f) => f.startsWith("m-"))).toEqual([]);
}

describe("remote command builders: a hostile value is one word, verbatim, and runs nothing", () => {
  it("buildCommand: the host name stays inside the one flake reference word", () => {
    for (const v of HOSTILE) {
      const { calls } = run(buildCommand(v));
      const nix = calls.find((c) => c[0] === "nix")!;
      expect(nix.at(-1)).toBe(
        `path:${join(sandbox, "root", "flake")}#nixosConfigurations.${v}.config.system.build.toplevel`,
      );
    }
    noMarkers();
  });

  it("launchSupervisorCommand: toplevels and the script path reach systemd-run as single words", () => {
    for (const v of HOSTILE) {
      const { calls, code } = run(
        launchSupervisorCommand({
          stage: "final",
          newToplevel: `/nix/store/new-${v}`,
          oldToplevel: `/nix/store/old-${v}`,
          confirmTimeoutSec: 120,
          rebootAfterSec: 720,
          scriptPath: `${STATE_ROOT}/sup ${v}.sh`,
        }),
      );
      expect(code).toBe(0);
      const sup = calls.find((c) => c[0] === "systemd-run" && c.includes("/bin/sh"))!;
      const i = sup.indexOf("/bin/sh");
      expect(sup.slice(i + 1)).toEqual([
        `${join(sandbox, "root", "run")}/sup ${v}.sh`,
        join(sandbox, "root", "run", "final"),
        `/nix/store/new-${v}`,
        `/nix/store/old-${v}`,
        "120",
      ]);
      const reboot = calls.find((c) => c[0] === "systemd-run" && c.includes("reboot"))!;
      expect(reboot).toContain("--on-active=720s");
    }
    noMarkers();
  });

  it("persistCommand: a toplevel from the target's answer is one word for nix-env and one path to execute", () => {
    for (const v of HOSTILE) {
      const toplevel = join(sandbox, "store", `sys-${v}`);
      mkdirSync(join(toplevel, "bin"), { recursive: true });
      const stc = join(toplevel, "bin", "switch-to-configuration");
      writeFileSync(stc, `#!/bin/sh\nprintf '%s\\0' CALL "$0" "$@" >> "$CALLS"\n`);
      chmodSync(stc, 0o755);
      const { calls } = run(persistCommand(toplevel));
      expect(calls.find((c) => c[0] === "nix-env")).toEqual([
        "nix-env",
        "-p",
        join(sandbox, "root", "profile"),
        "--set",
        toplevel,
      ]);
      expect(calls.find((c) => c[0] === stc)).toEqual([stc, "boot"]);
    }
    noMarkers();
  });

  it("nackCommand: the observed reason (text from the target and the network) is written verbatim", () => {
    for (const v of HOSTILE) {
      run(nackCommand("dual-port", v));
      expect(readFileSync(join(sandbox, "root", "run", "dual-port", "nack"), "utf8")).toBe(`${v}\n`);
    }
    noMarkers();
  });

  it("the fixed commands run in the sandbox as their stubs' calls", () => {
    expect(run(unpackFlakeCommand()).calls.map((c) => c[0])).toEqual(["rm", "mkdir", "tar"]);
    expect(run(readStateCommand("final")).calls).toEqual([["cat", `${join(sandbox, "root", "run", "final")}/state`]]);
    expect(run(ackCommand("dual-port")).calls).toEqual([["touch", `${join(sandbox, "root", "run", "dual-port")}/ack`]]);
    expect(run(cancelRebootCommand()).calls[0]!.slice(0, 2)).toEqual(["systemctl", "stop"]);
    expect(run(switchLogCommand("final")).calls).toEqual([
      ["tail", "-n", "8", `${join(sandbox, "root", "run", "final")}/switch.log`],
    ]);
    noMarkers();
  });

  it("preflightScript: the port is printed as the number it is; a non-number is refused before any command exists", () => {
    const out = spawnSync("/bin/sh", ["-c", preflightScript(2222)], {
      cwd: sandbox,
      env: { PATH: bin, CALLS: log },
      encoding: "utf8",
    }).stdout;
    expect(out.split("\n")).toContain("port_checked=2222");
    for (const v of ["2222; touch m-port", 0, 70000, 22.5, Number.NaN])
      expect(() => preflightScript(v as number)).toThrow(/is not a whole number/);
    noMarkers();
  });

  it("stage names and numbers outside their set are refused by the builders (never quoted into a path)", () => {
    for (const v of HOSTILE) {
      expect(() => readStateCommand(v)).toThrow(/unknown lockdown stage/);
      expect(() => ackCommand(v)).toThrow(/unknown lockdown stage/);
      expect(() => switchLogCommand(v)).toThrow(/unknown lockdown stage/);
      expect(() => nackCommand(v, "x")).toThrow(/unknown lockdown stage/);
    }
    const l = {
      stage: "final",
      newToplevel: "/nix/store/a",
      oldToplevel: "/nix/store/b",
      confirmTimeoutSec: 120,
      rebootAfterSec: 720,
      scriptPath: "/run/x.sh",
    };
    expect(() => launchSupervisorCommand({ ...l, confirmTimeoutSec: "1; reboot" as unknown as number })).toThrow(
      /confirm timeout/,
    );
    expect(() => launchSupervisorCommand({ ...l, rebootAfterSec: -1 })).toThrow(/reboot delay/);
    expect(existsSync(join(sandbox, "m-port"))).toBe(false);
  });
});
