// nixnode.json validation: every bad value is refused with its path and a fix; good files parse.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { loadConfigFile, parseConfig } from "../../../src/plan/config";
import { parsePublicKey } from "../../../src/plan/ssh-public-key";
import { KEY_ED25519, opensshPublicKey } from "./fixtures";

function refusal(json: unknown): UserError {
  try {
    parseConfig(json);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`accepted: ${JSON.stringify(json)}`);
}

// A FIDO key as `ssh-keygen -t ed25519-sk` writes it (wire blob: type, 32-byte key, "ssh:" application).
function skKey(application = "ssh:"): string {
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([
    str(Buffer.from("sk-ssh-ed25519@openssh.com")),
    str(Buffer.alloc(32, 7)),
    str(Buffer.from(application)),
  ]);
  return `sk-ssh-ed25519@openssh.com ${blob.toString("base64")} yubikey`;
}

describe("parseConfig refuses bad values, naming the field", () => {
  const rsa1024 = opensshPublicKey("rsa", { bits: 1024 });
  const rows: Array<[string, unknown, string, RegExp]> = [
    ["port with a letter", { ssh: { port: "833w" } }, "ssh.port", /"833w" is not a port number \(1-65535\)/],
    ["port 0", { ssh: { port: 0 } }, "ssh.port", /not a port number/],
    ["port 70000", { ssh: { port: 70000 } }, "ssh.port", /not a port number/],
    ["unknown top-level key", { hostnme: "a" }, "hostnme", /not a known setting/],
    ["unknown nested key", { ssh: { prot: 22 } }, "ssh.prot", /not a known setting/],
    ["hostname with a dot", { hostname: "node.example.org" }, "hostname", /not a valid host name/],
    ["hostname too long", { hostname: "a".repeat(64) }, "hostname", /longer than 63/],
    ["hostname with capitals", { hostname: "Node1" }, "hostname", /capital letters/],
    ["hostname starting with -", { hostname: "-node" }, "hostname", /not a valid host name/],
    ["nixos release", { nixos: "25.10" }, "nixos", /NixOS release/],
    ["timezone", { timezone: "Berlin" }, "timezone", /time zone/],
    ["profile", { profile: "umbrel" }, "profile", /not one of/],
    ["layout", { disk: { layout: "raid5" } }, "disk.layout", /not one of/],
    ["swap without unit", { disk: { swap: "4" } }, "disk.swap", /not a swap size/],
    ["device not under /dev", { disk: { devices: ["sda"] } }, "disk.devices[0]", /not a device path/],
    ["three devices", { disk: { devices: ["/dev/a", "/dev/b", "/dev/c"] } }, "disk.devices", /3 entries/],
    [
      "data disk mounted on /nix",
      { disk: { data: { device: "/dev/sdb", mountpoint: "/nix" } } },
      "disk.data.mountpoint",
      /belongs to the system disk/,
    ],
    [
      "data filesystem",
      { disk: { data: { device: "/dev/sdb", filesystem: "ntfs" } } },
      "disk.data.filesystem",
      /not one of/,
    ],
    ["keys not a list", { ssh: { authorizedKeys: KEY_ED25519 } }, "ssh.authorizedKeys", /not a list/],
    [
      "garbage key",
      { ssh: { authorizedKeys: ["hello world"] } },
      "ssh.authorizedKeys[0]",
      /not valid base64|does not match|not a supported/,
    ],
    [
      "private key pasted",
      { ssh: { authorizedKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----"] } },
      "ssh.authorizedKeys[0]",
      /PRIVATE key/,
    ],
    ["short RSA key", { ssh: { authorizedKeys: [rsa1024] } }, "ssh.authorizedKeys[0]", /1024 bits/],
    ["DSA key", { ssh: { authorizedKeys: ["ssh-dss AAAAB3NzaC1kc3MAAACBAP= x"] } }, "ssh.authorizedKeys[0]", /DSA/],
    [
      "type and blob disagree",
      { ssh: { authorizedKeys: [KEY_ED25519.replace("ssh-ed25519", "ssh-rsa")] } },
      "ssh.authorizedKeys[0]",
      /does not match its type/,
    ],
    [
      "duplicate key",
      { ssh: { authorizedKeys: [KEY_ED25519, KEY_ED25519] } },
      "ssh.authorizedKeys[1]",
      /same key as ssh.authorizedKeys\[0\]/,
    ],
    ["truncated FIDO key", { ssh: { authorizedKeys: [skKey("xyz")] } }, "ssh.authorizedKeys[0]", /malformed/],
    ["admin user root", { ssh: { adminUser: "root" } }, "ssh.adminUser", /system account/],
    ["admin user with space", { ssh: { adminUser: "my admin" } }, "ssh.adminUser", /user name/],
    [
      "ignoreIP not an IP",
      { fail2ban: { ignoreIP: ["my-laptop"] } },
      "fail2ban.ignoreIP[0]",
      /not an IP address or CIDR/,
    ],
    [
      "ignoreIP prefix too long",
      { fail2ban: { ignoreIP: ["10.0.0.0/33"] } },
      "fail2ban.ignoreIP[0]",
      /not an IP address or CIDR/,
    ],
    ["fail2ban.enable string", { fail2ban: { enable: "yes" } }, "fail2ban.enable", /not true or false/],
    ["reboot timeout", { install: { rebootTimeoutSec: 5 } }, "install.rebootTimeoutSec", /60-3600/],
    ["not an object", [1, 2], "config", /not a JSON object/],
  ];
  it.each(rows)("%s", (_name, json, field, message) => {
    const e = refusal(json);
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    expect(e.message).toMatch(message);
  });

  it("suggests the near miss for a typo", () => {
    expect(refusal({ ssh: { prot: 22 } }).hint).toBe("did you mean ssh.port?");
    expect(refusal({ fail2ban: { ignoreIp: [] } }).hint).toBe("did you mean fail2ban.ignoreIP?");
  });
});

describe("parseConfig accepts what operators write", () => {
  it("keeps every given answer and nothing else", () => {
    const ecdsa = opensshPublicKey("ecdsa");
    const rsa = opensshPublicKey("rsa", { bits: 2048 });
    const c = parseConfig({
      $schema: "https://example.invalid/nixnode.schema.json",
      hostname: "btc-node-1",
      nixos: "26.05",
      timezone: "America/Argentina/Buenos_Aires",
      profile: "nix-bitcoin",
      disk: {
        layout: "mirror-zfs",
        devices: ["/dev/nvme0n1", "/dev/disk/by-id/nvme-X"],
        swap: "4G",
        data: { device: "/dev/sda", mountpoint: "/data" },
      },
      ssh: { port: "2222", authorizedKeys: [KEY_ED25519, ecdsa, rsa, skKey()], adminUser: "satoshi" },
      fail2ban: { enable: true, ignoreIP: ["203.0.113.7", "2001:db8::/32", "198.51.100.0/24"] },
    });
    expect(c.ssh).toEqual({ port: 2222, authorizedKeys: [KEY_ED25519, ecdsa, rsa, skKey()], adminUser: "satoshi" });
    expect(c.disk?.data).toEqual({ device: "/dev/sda", mountpoint: "/data", filesystem: "ext4" });
    expect(c.fail2ban?.ignoreIP).toHaveLength(3);
    expect(c.install).toBeUndefined();
    expect(parseConfig({})).toEqual({});
  });

  it("fingerprints keys exactly as ssh-keygen -l does (SHA256 of the wire blob)", () => {
    const k = parsePublicKey(KEY_ED25519, "k");
    const blob = Buffer.from(KEY_ED25519.split(" ")[1]!, "base64");
    expect(k.fingerprint).toBe(`SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`);
    expect(k.comment).toBe("operator@laptop");
  });
});

describe("loadConfigFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "nixnode-config-"));
  it("names --config for a missing file, bad JSON, and a bad field", async () => {
    await expect(loadConfigFile(join(dir, "nope.json"))).rejects.toMatchObject({
      field: "--config",
      message: expect.stringMatching(/does not exist/),
    });
    writeFileSync(join(dir, "bad.json"), '{ "hostname": "a", }');
    await expect(loadConfigFile(join(dir, "bad.json"))).rejects.toMatchObject({
      field: "--config",
      message: expect.stringMatching(/not valid JSON/),
    });
    writeFileSync(join(dir, "port.json"), '{ "ssh": { "port": "833w" } }');
    await expect(loadConfigFile(join(dir, "port.json"))).rejects.toMatchObject({
      field: "ssh.port",
      message: expect.stringMatching(/ssh.port: "833w" is not a port number/),
    });
    await expect(loadConfigFile(dir)).rejects.toMatchObject({
      field: "--config",
      message: expect.stringMatching(/is a folder/),
    });
  });
});
