// The harness's pure renderers: sshd_config and the scripts parse as the tools expect.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  renderHolderScript,
  renderReboot,
  renderSshdConfig,
  renderStartSshd,
  withPorts,
} from "../../targets/target-scripts";

describe("target scripts", () => {
  const config = renderSshdConfig({
    ports: [22],
    permitRootLogin: "prohibit-password",
    passwordAuthentication: false,
    usePam: false,
  });

  it("sshd_config carries the settings the recipes require", () => {
    for (const line of [
      "Port 22",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "UsePAM no",
      "LogLevel VERBOSE",
      "PidFile none",
      "MaxStartups 100:30:200",
    ]) {
      expect(config.split("\n")).toContain(line);
    }
  });

  it("withPorts replaces every Port line and keeps the rest", () => {
    const moved = withPorts(config + "port 2200\n", [2222, 22]);
    expect(moved.match(/^port /gim)).toHaveLength(2);
    expect(moved).toContain("Port 2222\nPort 22\n");
    expect(moved).toContain("PermitRootLogin prohibit-password");
  });

  it("every script is valid POSIX sh (sh -n)", () => {
    for (const script of [
      renderHolderScript("/tmp/nnt-x", "h"),
      renderStartSshd("/tmp/nnt-x"),
      renderReboot("/tmp/nnt-x", 1, "10.231.0.1", "fd4e:6e74:0:0::1"),
    ]) {
      expect(() => execFileSync("sh", ["-n"], { input: script })).not.toThrow();
    }
  });
});
