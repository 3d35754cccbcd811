// The services each system starts at boot, read by the real remote command (run here in sh against
// toplevel-shaped folders) and parsed: what the change summary's "services started/stopped" uses.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseUnitLists, unitListsCommand } from "../../../src/switch/unit-lists";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function toplevel(name: string, units: string[]): string {
  const root = mkdtempSync(join(tmpdir(), "nn-units-"));
  dirs.push(root);
  const top = join(root, name);
  const wants = join(top, "etc/systemd/system/multi-user.target.wants");
  mkdirSync(wants, { recursive: true });
  for (const u of units) {
    writeFileSync(join(top, "etc/systemd/system", u), "[Unit]\n");
    symlinkSync(`../${u}`, join(wants, u));
  }
  writeFileSync(join(wants, "remote-fs.target"), ""); // targets are not services
  return top;
}

const run = (cmd: string) => execFileSync("/bin/sh", ["-c", cmd], { encoding: "utf8" });

describe("unit lists of the new system", () => {
  it("lists the services multi-user.target wants, sorted, and says when the running system has none", () => {
    const top = toplevel("abc-nixos-system", ["sshd.service", "nats.service", "fail2ban.service"]);
    const lists = parseUnitLists(run(unitListsCommand(top)));
    expect(lists.after).toEqual(["fail2ban.service", "nats.service", "sshd.service"]);
    // this machine is not NixOS: /run/current-system has no unit folder
    expect(lists.before).toBeNull();
  });

  it("a toplevel path with quotes and spaces reaches the shell as one quoted word", () => {
    const top = toplevel("it's a $(touch pwned) system", ["sshd.service"]);
    const out = run(`cd ${JSON.stringify(dirs[0])} && ${unitListsCommand(top)}`);
    expect(parseUnitLists(out).after).toEqual(["sshd.service"]);
    expect(existsSync(join(dirs[0]!, "pwned"))).toBe(false);
  });

  it("a new system without the folder is 'not known', not 'every service stopped'", () => {
    const root = mkdtempSync(join(tmpdir(), "nn-units-"));
    dirs.push(root);
    expect(parseUnitLists(run(unitListsCommand(root))).after).toBeNull();
  });
});
