import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { matchHostPatterns, resolveSshConfig, resolveSshConfigFile } from "../../../src/remote/ssh-config";

const CONFIG = `
# global defaults come first only if written first
Host btc
  HostName 203.0.113.7
  User admin
  Port 2222
  IdentityFile ~/.ssh/id_btc

Host *.lab !bad.lab
  User labuser
  IdentityFile=%d/.ssh/lab_%r

Host btc *
  Port 22
  User nobody
  IdentityFile ~/.ssh/id_all
  ProxyJump bastion
  UserKnownHostsFile ~/.ssh/kh_a ~/.ssh/kh_b

Host alias-h
  HostName %h.example.org
`;

describe("ssh config", () => {
  const home = "/home/op";
  it("first value wins; IdentityFile accumulates in order; ~ and %d expand", () => {
    const c = resolveSshConfig("btc", CONFIG, { home, localUser: "op" });
    expect(c).toMatchObject({ hostName: "203.0.113.7", user: "admin", port: 2222 });
    expect(c.identityFiles).toEqual(["/home/op/.ssh/id_btc", "/home/op/.ssh/id_all"]);
    expect(c.userKnownHostsFiles).toEqual(["/home/op/.ssh/kh_a", "/home/op/.ssh/kh_b"]);
    expect(c.ignored).toContain("proxyjump");
  });

  it("wildcards and negation", () => {
    const good = resolveSshConfig("node.lab", CONFIG, { home, localUser: "op" });
    expect(good).toMatchObject({ hostName: "node.lab", user: "labuser", port: 22 });
    expect(good.identityFiles[0]).toBe("/home/op/.ssh/lab_labuser");
    const bad = resolveSshConfig("bad.lab", CONFIG, { home, localUser: "op" });
    expect(bad.user).toBe("nobody");
  });

  it("%h in HostName is the alias", () => {
    expect(resolveSshConfig("alias-h", CONFIG, { home }).hostName).toBe("alias-h.example.org");
  });

  it("an unknown name resolves to itself", () => {
    const c = resolveSshConfig("203.0.113.9", "Host btc\n  Port 2\n", { home });
    expect(c).toMatchObject({ hostName: "203.0.113.9", user: undefined, port: undefined, identityFiles: [] });
  });

  it("Match blocks are not applied (and reported)", () => {
    const c = resolveSshConfig("x", "Match host x\n  User evil\nHost x\n  User good\n", { home });
    expect(c.user).toBe("good");
    expect(c.ignored).toContain("Match");
  });

  it("pattern lists", () => {
    expect(matchHostPatterns("a.b.c", ["*.c"])).toBe(true);
    expect(matchHostPatterns("a.b.c", ["*.c", "!a.*"])).toBe(false);
    expect(matchHostPatterns("node1", ["node?"])).toBe(true);
    expect(matchHostPatterns("node10", ["node?"])).toBe(false);
    expect(matchHostPatterns("NODE1", ["node1"])).toBe(true);
  });

  it("Include files relative to ~/.ssh, with a glob", () => {
    const h = mkdtempSync(join(tmpdir(), "nnt-home-"));
    mkdirSync(join(h, ".ssh", "conf.d"), { recursive: true });
    writeFileSync(join(h, ".ssh", "config"), "Include conf.d/*.conf\nHost *\n  User fallback\n");
    writeFileSync(join(h, ".ssh", "conf.d", "10-node.conf"), "Host node\n  HostName 198.51.100.4\n  User root\n");
    const c = resolveSshConfigFile("node", undefined, { home: h });
    expect(c).toMatchObject({ hostName: "198.51.100.4", user: "root" });
    expect(resolveSshConfigFile("other", undefined, { home: h }).user).toBe("fallback");
  });
});
