// The host key staged for --extra-files: private modes where they matter, the layout nixos-anywhere
// copies onto /, the fingerprint pinned in host.json equal to what ssh-keygen computes, and the
// staging folder gone after cleanup. Also the #294 refusal rules.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { prepareHostKey, readHostData, refuseWithoutOperatorKey } from "../../../src/install/flake-host";
import type { HostData } from "../../../src/plan/types";
import { readIdentityFile } from "../../../src/secrets/age";

function operatorKey(dir: string): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "op", "-f", join(dir, "op")]);
  return readFileSync(join(dir, "op.pub"), "utf8").trim();
}

function hostData(keys: string[]): HostData {
  return {
    schema: 1,
    hostname: "node1",
    system: "x86_64-linux",
    stateVersion: "25.11",
    timezone: "UTC",
    profile: "base",
    ssh: {
      ports: [22],
      passwordAuthentication: true,
      permitRootLogin: "prohibit-password",
      authorizedKeys: keys,
      adminUser: null,
      hostKeyFingerprint: null,
    },
    firewall: { enable: true, allowedTCPPorts: [], allowedUDPPorts: [] },
    fail2ban: { enable: true, ignoreIP: [], maxretry: 5, bantime: "10m" },
    lockdown: { stage: "none", port: 2222 },
    network: { interfaces: [], dns: [] },
    boot: { mode: "bios" },
  };
}

describe("staging the pre-generated host key", () => {
  it("pins the fingerprint ssh-keygen computes, stages private files, encrypts a copy, and cleans up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-stage-"));
    const key = operatorKey(dir);
    const flake = join(dir, "flake");
    mkdirSync(join(flake, "hosts", "node1"), { recursive: true });
    writeFileSync(join(flake, "hosts", "node1", "host.json"), JSON.stringify(hostData([key])));
    const { staged, host } = await prepareHostKey(flake, "node1", readHostData(flake, "node1"));
    const priv = join(staged.extraFilesDir, "etc", "ssh", "ssh_host_ed25519_key");
    const fp = /SHA256:\S+/.exec(execFileSync("ssh-keygen", ["-l", "-f", priv], { encoding: "utf8" }))![0];
    expect(host.ssh.hostKeyFingerprint).toBe(fp);
    expect(readHostData(flake, "node1").ssh.hostKeyFingerprint).toBe(fp);
    expect(statSync(staged.temp.path).mode & 0o777).toBe(0o700);
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    expect(statSync(staged.extraFilesDir).mode & 0o777).toBe(0o755); // becomes the mode of / on the target
    expect(staged.storedEncrypted).toBe(true);
    expect(readFileSync(join(flake, "secrets", "host-key.age"), "utf8")).toMatch(/BEGIN AGE ENCRYPTED FILE/);
    // the operator can decrypt the stored copy with the reference age CLI
    const plain = execFileSync("age", ["-d", "-i", join(dir, "op"), join(flake, "secrets", "host-key.age")], {
      encoding: "utf8",
    });
    expect(plain).toBe(readFileSync(priv, "utf8"));
    staged.temp.cleanup();
    expect(existsSync(staged.temp.path)).toBe(false);
  });
});

describe("reinstalling from the same flake", () => {
  it("keeps the node's host key: decrypted from secrets/host-key.age with the operator's key, same fingerprint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-reuse-"));
    const key = operatorKey(dir);
    const flake = join(dir, "flake");
    mkdirSync(join(flake, "hosts", "node1"), { recursive: true });
    writeFileSync(join(flake, "hosts", "node1", "host.json"), JSON.stringify(hostData([key])));
    const first = await prepareHostKey(flake, "node1", readHostData(flake, "node1"));
    const firstPrivate = readFileSync(join(first.staged.extraFilesDir, "etc/ssh/ssh_host_ed25519_key"), "utf8");
    first.staged.temp.cleanup();
    expect(first.staged.reused).toBe(false);

    let asked = 0;
    const again = await prepareHostKey(flake, "node1", readHostData(flake, "node1"), () => {
      asked++;
      return readIdentityFile(join(dir, "op"), "-i");
    });
    expect(asked).toBe(1);
    expect(again.staged.reused).toBe(true);
    expect(again.host.ssh.hostKeyFingerprint).toBe(first.host.ssh.hostKeyFingerprint);
    const staged = join(again.staged.extraFilesDir, "etc/ssh/ssh_host_ed25519_key");
    expect(readFileSync(staged, "utf8")).toBe(firstPrivate);
    // what sshd will present is the pinned fingerprint
    expect(execFileSync("ssh-keygen", ["-l", "-f", staged], { encoding: "utf8" })).toContain(
      first.host.ssh.hostKeyFingerprint!,
    );
    again.staged.temp.cleanup();
    expect(existsSync(again.staged.temp.path)).toBe(false);
  });

  it("refuses with a clear error when the operator's key cannot decrypt the stored host key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-reuse-wrong-"));
    const key = operatorKey(dir);
    const flake = join(dir, "flake");
    mkdirSync(join(flake, "hosts", "node1"), { recursive: true });
    writeFileSync(join(flake, "hosts", "node1", "host.json"), JSON.stringify(hostData([key])));
    (await prepareHostKey(flake, "node1", readHostData(flake, "node1"))).staged.temp.cleanup();
    const stranger = mkdtempSync(join(tmpdir(), "nn-stranger-"));
    operatorKey(stranger);
    const before = readFileSync(join(flake, "secrets", "host-key.age"));
    await expect(
      prepareHostKey(flake, "node1", readHostData(flake, "node1"), () => readIdentityFile(join(stranger, "op"), "-i")),
    ).rejects.toThrow(/host-key\.age/);
    // the stored key is untouched: the node's identity is not replaced
    expect(readFileSync(join(flake, "secrets", "host-key.age"))).toEqual(before);
  });
});

describe("refusing an install nobody could log in to (#294)", () => {
  const dir = mkdtempSync(join(tmpdir(), "nn-294-"));
  const mine = operatorKey(dir);
  const other = operatorKey(mkdtempSync(join(tmpdir(), "nn-294b-")));
  it("accepts when one of the operator's keys is authorised (comments may differ)", () => {
    expect(() =>
      refuseWithoutOperatorKey(hostData([other, mine.replace(/ op$/, " laptop")]), [mine], "node1"),
    ).not.toThrow();
  });
  it.each([
    ["no key at all", [] as string[], [mine]],
    ["only somebody else's key", [other], [mine]],
    ["no key on the operator's side", [mine], [] as string[]],
  ])("refuses %s", (_n, authorised, operator) => {
    expect(() => refuseWithoutOperatorKey(hostData(authorised), operator, "node1")).toThrow(UserError);
    expect(() => refuseWithoutOperatorKey(hostData(authorised), operator, "node1")).toThrow(/^ssh\.authorizedKeys: /);
  });
});
