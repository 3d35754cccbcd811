import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OperationError } from "../../../src/errors";
import { freshInstallState, readInstallState, writeInstallState } from "../../../src/install/install-state";
import { knownHostName, pinKnownHost, replaceKnownHost } from "../../../src/install/pin-known-host";
import { judgeInstalledSystem, parseVerifyOutput } from "../../../src/install/verify-installed";
import { waitForPinnedHostKey, type HostKeyProbe } from "../../../src/install/wait-for-pinned-host-key";

const NIXOS = `@@os-release
ID=nixos
NAME=NixOS
VERSION_ID="25.11"
PRETTY_NAME="NixOS 25.11 (Xantusia)"
@@hostname
node1
@@boot-id
b2
@@system-state
degraded
@@failed-units
bitcoind.service loaded failed failed Bitcoin daemon
@@addresses
2: eth0    inet 203.0.113.7/32 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet6 2001:db8::7/64 scope global \\       valid_lft forever preferred_lft forever
@@end
`;
const expected = {
  hostname: "node1",
  release: "25.11",
  bootIdBefore: "b1",
  addresses: ["203.0.113.7/32", "2001:db8::7/64"],
};

describe("verifying the installed system", () => {
  it("accepts the planned system and reports degraded units as a warning", () => {
    const o = parseVerifyOutput(NIXOS);
    expect(o).toMatchObject({
      osId: "nixos",
      versionId: "25.11",
      hostname: "node1",
      bootId: "b2",
      systemState: "degraded",
      failedUnits: ["bitcoind.service"],
    });
    const v = judgeInstalledSystem(o, expected);
    expect(v.problems).toEqual([]);
    expect(v.warnings).toEqual(["systemd reports a degraded system; failed units: bitcoind.service"]);
  });
  it.each([
    [
      "the old OS",
      NIXOS.replace("ID=nixos", "ID=ubuntu").replace(
        'PRETTY_NAME="NixOS 25.11 (Xantusia)"',
        'PRETTY_NAME="Ubuntu 24.04.1 LTS"',
      ),
      /Ubuntu 24\.04\.1 LTS, not NixOS/,
    ],
    [
      "the installer",
      NIXOS.replace("NAME=NixOS", "NAME=NixOS\nVARIANT_ID=installer"),
      /still runs the NixOS installer/,
    ],
    [
      "another release",
      NIXOS.replace('VERSION_ID="25.11"', 'VERSION_ID="24.05"'),
      /24\.05 runs, but 25\.11 was planned/,
    ],
    ["another hostname", NIXOS.replace("@@hostname\nnode1", "@@hostname\nnixos"), /hostname is "nixos"/],
    ["no reboot", NIXOS.replace("@@boot-id\nb2", "@@boot-id\nb1"), /never rebooted/],
  ])("refuses %s", (_n, text, msg) => {
    expect(judgeInstalledSystem(parseVerifyOutput(text), expected).problems.join("\n")).toMatch(msg);
  });
  it("warns when a planned address is missing", () => {
    const v = judgeInstalledSystem(parseVerifyOutput(NIXOS.replace("203.0.113.7/32", "198.51.100.9/24")), expected);
    expect(v.warnings.join("\n")).toMatch(/planned addresses not present: 203\.0\.113\.7\/32/);
  });
});

describe("known_hosts after the install", () => {
  const NEW = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0nIxbEJkH0sGvS2jYcVd9bG5m8fWbD1dQv1l6vW0aA root@node1";
  it("replaces the old machine's plain entries and keeps others", () => {
    const before =
      "203.0.113.7 ssh-ed25519 AAAAold\nother.example ssh-rsa AAAAkeep\n203.0.113.7 ecdsa-sha2-nistp256 AAAAold2\n";
    const after = replaceKnownHost(before, "203.0.113.7", NEW);
    expect(after).toBe(`other.example ssh-rsa AAAAkeep\n203.0.113.7 ssh-ed25519 ${NEW.split(" ")[1]}\n`);
    expect(knownHostName("[2001:db8::7]", 2222)).toBe("[2001:db8::7]:2222");
  });
  it("removes hashed entries too: ssh-keygen -F finds only the pinned key", () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-kh-"));
    const file = join(dir, "known_hosts");
    writeFileSync(
      file,
      "203.0.113.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldOldOldOldOldOldOldOldOldOldOldOldOldOldO\n",
    );
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    expect(readFileSync(file, "utf8")).toMatch(/^\|1\|/);
    pinKnownHost(file, "203.0.113.7", 22, NEW);
    const found = execFileSync("ssh-keygen", ["-F", "203.0.113.7", "-f", file], { encoding: "utf8" });
    expect(found.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([
      `203.0.113.7 ssh-ed25519 ${NEW.split(" ")[1]}`,
    ]);
  });
});

describe("state.json", () => {
  it("keeps other keys and round-trips the install progress", () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-state-"));
    execFileSync("mkdir", ["-p", join(dir, ".nixnode")]);
    writeFileSync(
      join(dir, ".nixnode", "state.json"),
      JSON.stringify({ schema: 1, hostname: "node1", phases: { plan: "done" } }),
    );
    writeInstallState(dir, {
      ...freshInstallState("root@h:22"),
      phasesDone: ["kexec"],
      phaseRunning: "disko",
      pinnedHostKey: "SHA256:x",
    });
    const all = JSON.parse(readFileSync(join(dir, ".nixnode", "state.json"), "utf8"));
    expect(all).toMatchObject({ schema: 1, hostname: "node1", phases: { plan: "done" } });
    expect(readInstallState(dir)).toMatchObject({
      target: "root@h:22",
      phasesDone: ["kexec"],
      phaseRunning: "disko",
      pinnedHostKey: "SHA256:x",
    });
  });
});

describe("waiting for the pinned key", () => {
  const scripted = (seq: HostKeyProbe[]) => {
    let i = 0;
    return async () => seq[Math.min(i++, seq.length - 1)]!;
  };
  it("waits through refusals and the previous key, returns on the pinned one", async () => {
    const r = await waitForPinnedHostKey({
      host: "h",
      port: 22,
      pinned: "SHA256:new",
      previous: ["SHA256:old"],
      timeoutMs: 10_000,
      intervalMs: 1,
      probe: scripted([
        { kind: "key", fingerprint: "SHA256:old" },
        { kind: "refused", message: "refused" },
        { kind: "timeout", message: "t" },
        { kind: "key", fingerprint: "SHA256:new" },
      ]),
    });
    expect(r.attempts).toBe(4);
  });
  it("aborts at once on a third key, naming both", async () => {
    const p = waitForPinnedHostKey({
      host: "h",
      port: 22,
      pinned: "SHA256:new",
      previous: ["SHA256:old"],
      timeoutMs: 10_000,
      intervalMs: 1,
      probe: scripted([{ kind: "key", fingerprint: "SHA256:evil" }]),
    });
    await expect(p).rejects.toThrow(OperationError);
    await expect(p).rejects.toMatchObject({
      details: expect.arrayContaining([expect.stringContaining("SHA256:new"), expect.stringContaining("SHA256:evil")]),
    });
  });
  it("times out with what it last saw and how to go on", async () => {
    const p = waitForPinnedHostKey({
      host: "h",
      port: 22,
      pinned: "SHA256:new",
      previous: ["SHA256:old"],
      timeoutMs: 50,
      intervalMs: 5,
      timeoutHints: ["use the console"],
      probe: scripted([{ kind: "key", fingerprint: "SHA256:old" }]),
    });
    await expect(p).rejects.toMatchObject({
      message: expect.stringMatching(/did not answer with the pinned host key/),
      details: expect.arrayContaining([
        expect.stringMatching(/previous system's host key SHA256:old/),
        "use the console",
      ]),
    });
  });
});
