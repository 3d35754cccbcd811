import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
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

describe("ssh config values this tool would use are checked, never silently dropped", () => {
  const home = "/home/op";
  const refusal = (text: string, alias = "btc") => {
    try {
      resolveSshConfig(alias, text, { home });
    } catch (e) {
      return e as UserError;
    }
    return null;
  };
  it.each([
    ["Host btc\n  Port 833w\n", /ssh config:2: Port "833w" is not a port number \(1-65535\)/],
    ["Host btc\n  Port 0\n", /ssh config:2: Port "0" is not a port number/],
    ["\n\nHost btc\n  Port 70000\n", /ssh config:4: Port "70000"/],
    ["Host btc\n  HostName node;rm -rf ~\n", /ssh config:2: HostName "node;rm" is not an IP address or host name/],
    ['Host btc\n  HostName "$(touch /tmp/x)"\n', /ssh config:2: HostName "\$\(touch \/tmp\/x\)" is not/],
    ["Host btc\n  HostName `id`.example.org\n", /HostName "`id`\.example\.org" is not/],
    ["Host btc\n  User root;id\n", /ssh config:2: User "root;id" is not a valid user name/],
  ])("%j is refused naming the file and line", (text, message) => {
    const e = refusal(text);
    expect(e).toBeInstanceOf(UserError);
    expect(e!.field).toBe("--ssh-config");
    expect(e!.message).toMatch(message);
    expect(e!.hint).toBeTruthy();
  });
  it("a bad value in a block that does not apply to the host is ssh's business, not an error here", () => {
    expect(refusal("Host other\n  Port 833w\n")).toBeNull();
  });
  it("a file's own path and line are named", () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-sshcfg-"));
    writeFileSync(join(dir, "config"), "# mine\nHost btc\n  HostName 203.0.113.7\n  Port 22x\n");
    expect(() => resolveSshConfigFile("btc", join(dir, "config"), { home: dir })).toThrow(
      `${join(dir, "config")}:4: Port "22x" is not a port number`,
    );
  });
});
