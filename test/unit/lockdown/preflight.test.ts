import { describe, expect, it } from "vitest";
import { OperationError } from "../../../src/errors";
import { judgePreflight, parsePreflight } from "../../../src/lockdown/preflight";

const ok = `ssh_connection=10.231.0.1 51234 10.231.0.2 22
os_id=nixos
profile_link=system-3-link
profile_toplevel=/nix/store/aaa-nixos-system-node1
current_toplevel=/nix/store/aaa-nixos-system-node1
listen=0.0.0.0:22 users:(("sshd",pid=101,fd=3))
switch_lock=none
unit=nixos-rebuild-switch-to-configuration inactive
unit=nixnode-lockdown-dual-port inactive
port_checked=2222`;

describe("preflight", () => {
  it("reads the operator address, generation and toplevel", () => {
    const p = parsePreflight(ok, 2222);
    expect(p).toMatchObject({
      operatorAddress: "10.231.0.1",
      generation: 3,
      bootToplevel: "/nix/store/aaa-nixos-system-node1",
      portListeners: [],
      switchLock: "none",
    });
    expect(judgePreflight(p, 2222, { sshAlreadyOnPort: false })).toEqual([]);
  });
  it("a hostile or malformed $SSH_CONNECTION never becomes a fail2ban ignoreIP entry", () => {
    for (const v of ["$(reboot)", "10.0.0.1;reboot", "999.1.1.1", "fe80::1%eth0", "", "x\ny"]) {
      const p = parsePreflight(ok.replace("ssh_connection=10.231.0.1", `ssh_connection=${v}`), 2222);
      expect(p.operatorAddress, v).toBeNull();
      expect(judgePreflight(p, 2222, { sshAlreadyOnPort: false })).toContainEqual(
        expect.stringMatching(/could not read your address/),
      );
    }
    expect(parsePreflight(ok.replace("10.231.0.1", "2001:db8::7"), 2222).operatorAddress).toBe("2001:db8::7");
  });
  it("refuses a port someone else listens on, naming --port", () => {
    const p = parsePreflight(ok + `\nlisten=[::]:2222 users:(("nginx",pid=9,fd=6))`, 2222);
    expect(() => judgePreflight(p, 2222, { sshAlreadyOnPort: true })).toThrow(
      /port 2222 is already in use on the target: users:\(\("nginx"/,
    );
  });
  it("accepts sshd on the port when stage 1 is already active (a resumed run)", () => {
    const p = parsePreflight(ok + `\nlisten=0.0.0.0:2222 users:(("sshd",pid=101,fd=4))`, 2222);
    expect(judgePreflight(p, 2222, { sshAlreadyOnPort: true })).toEqual([]);
  });
  it("refuses while a switch holds the lock, and says nothing changed", () => {
    const p = parsePreflight(ok.replace("switch_lock=none", "switch_lock=held"), 2222);
    expect(() => judgePreflight(p, 2222, { sshAlreadyOnPort: false })).toThrow(OperationError);
    expect(() => judgePreflight(p, 2222, { sshAlreadyOnPort: false })).toThrow(
      /another switch-to-configuration is running.*Nothing was changed/,
    );
  });
  it("only warns about a stale lock file nobody holds", () => {
    const p = parsePreflight(ok.replace("switch_lock=none", "switch_lock=stale-file"), 2222);
    expect(judgePreflight(p, 2222, { sshAlreadyOnPort: false })[0]).toMatch(/nobody holds it/);
  });
  it("refuses while an earlier lockdown supervisor is still waiting", () => {
    const p = parsePreflight(ok + "\nsupervisor=dual-port alive 1700000000 switched 1700000120", 2222);
    expect(() => judgePreflight(p, 2222, { sshAlreadyOnPort: false })).toThrow(/earlier lockdown run is still waiting/);
  });
  it("refuses a target that is not NixOS", () => {
    const p = parsePreflight(ok.replace("os_id=nixos", "os_id=ubuntu"), 2222);
    expect(() => judgePreflight(p, 2222, { sshAlreadyOnPort: false })).toThrow(/not a NixOS system/);
  });
});
