// host.json's one owner: every field is validated where the file is read (a hostile or mistyped value
// is refused with `hosts/<host>/host.json: <field>` and exit 2), every generated host.json passes,
// writes are atomic and refuse what they would not read back, and state.json keeps other keys.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { locateHostFile, parseHostJson, readHostFile, writeHostFile } from "../../../src/flake/host-file";
import { readStateFile, writeStateKey } from "../../../src/flake/state-file";
import type { HostData } from "../../../src/plan/types";
import { FIELDS, HOSTILE, validHost } from "./host-json-cases";

const FILE = "hosts/node1/host.json";

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function refusal(text: string): UserError {
  try {
    parseHostJson(text, FILE);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("accepted");
}

describe("host.json: every field validated where it is read", () => {
  it("a complete, valid host.json is accepted as it is", () => {
    expect(parseHostJson(JSON.stringify(validHost()), FILE)).toEqual(validHost());
  });

  it("every host.json the plan generates (the golden flakes) is accepted", () => {
    const root = fileURLToPath(new URL("../../golden/flakes", import.meta.url));
    const files = readdirSync(root).flatMap((f) =>
      existsSync(join(root, f, "hosts"))
        ? readdirSync(join(root, f, "hosts")).map((h) => join(root, f, "hosts", h, "host.json"))
        : [],
    );
    expect(files.length).toBeGreaterThan(3);
    for (const f of files.filter(existsSync)) expect(() => parseHostJson(readFileSync(f, "utf8"), f)).not.toThrow();
  });

  for (const [field, set] of FIELDS) {
    it(`${field}: every hostile string is refused, exit 2, naming "${FILE}: ${field}"`, () => {
      for (const v of HOSTILE) {
        const h = validHost();
        set(h, v);
        const e = refusal(JSON.stringify(h));
        expect(e.exitCode, `${field} = ${JSON.stringify(v)}`).toBe(2);
        expect(e.message).toMatch(new RegExp(`^${esc(FILE)}: ${esc(field)}: `));
        expect(e.field).toBe(`${FILE}: ${field}`);
        expect(e.hint).toBeTruthy();
      }
    });
  }

  const wrong: Array<[string, (h: any) => void, RegExp]> = [
    ["lockdown.port 0", (h) => (h.lockdown.port = 0), /lockdown.port: 0 is not a port number/],
    ["lockdown.port as a string", (h) => (h.lockdown.port = "2222"), /lockdown.port: "2222" is not a port number/],
    ["lockdown.port 70000", (h) => (h.lockdown.port = 70000), /lockdown.port: 70000 is not a port number/],
    ["lockdown.port 22", (h) => (h.lockdown.port = 22), /lockdown.port: 22 is the port the lockdown closes/],
    [
      "lockdown.port equal to the port sshd already uses before lockdown",
      (h) => ((h.ssh.ports = [2222]), (h.lockdown.port = 2222)),
      /lockdown.port: 2222 is the port sshd already listens on/,
    ],
    ["ssh.ports empty", (h) => (h.ssh.ports = []), /ssh.ports: is empty/],
    ["a port listed twice", (h) => (h.firewall.allowedTCPPorts = [22, 22]), /allowedTCPPorts\[1\]: 22 is listed twice/],
    ["ignoreIP 999.999.999.999/999", (h) => (h.fail2ban.ignoreIP = ["999.999.999.999/999"]), /ignoreIP\[0\]/],
    ["ignoreIP 10.0.0.0/33", (h) => (h.fail2ban.ignoreIP = ["10.0.0.0/33"]), /ignoreIP\[0\]/],
    ["a host name as ignoreIP", (h) => (h.fail2ban.ignoreIP = ["my-laptop"]), /ignoreIP\[0\]: "my-laptop"/],
    ["a fake public key", (h) => (h.ssh.authorizedKeys = ["ssh-ed25519 AAAAfake op"]), /authorizedKeys\[0\]/],
    [
      "a private key",
      (h) => (h.ssh.authorizedKeys = ["-----BEGIN OPENSSH PRIVATE KEY-----"]),
      /authorizedKeys\[0\]: .*(private|secret)/i,
    ],
    ["adminUser root", (h) => (h.ssh.adminUser = "root"), /ssh.adminUser: "root" is not an admin user/],
    ["adminUser with capitals", (h) => (h.ssh.adminUser = "Admin"), /ssh.adminUser/],
    ["maxretry 0", (h) => (h.fail2ban.maxretry = 0), /fail2ban.maxretry/],
    ["a boolean as a string", (h) => (h.fail2ban.enable = "true"), /fail2ban.enable: "true" is not true or false/],
    ["an address without its prefix", (h) => (h.network.interfaces[0].addresses = ["203.0.113.7"]), /addresses\[0\]/],
    ["a missing section", (h) => delete h.firewall, /firewall: missing is not an object/],
    ["an upper-case host name", (h) => (h.hostname = "Node1"), /hostname: "Node1" has capital letters/],
  ];
  for (const [name, mutate, msg] of wrong) {
    it(`refuses ${name}`, () => {
      const h = validHost() as any;
      mutate(h);
      const e = refusal(JSON.stringify(h));
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(new RegExp(`^${esc(FILE)}: `));
      expect(e.message).toMatch(msg);
    });
  }

  it("not JSON, or not an object: names the file", () => {
    expect(refusal("{ nope").message).toMatch(/^hosts\/node1\/host.json: is not valid JSON/);
    expect(refusal("[1]").message).toMatch(/^hosts\/node1\/host.json: a list is not a JSON object/);
  });
});

describe("host.json on disk", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  function flake(hosts: Record<string, HostData>): string {
    dir = mkdtempSync(join(tmpdir(), "nn-hostfile-"));
    writeFileSync(join(dir, "flake.nix"), "{ }\n");
    for (const [name, h] of Object.entries(hosts)) {
      mkdirSync(join(dir, "hosts", name), { recursive: true });
      writeFileSync(join(dir, "hosts", name, "host.json"), JSON.stringify(h, null, 2) + "\n");
    }
    return dir;
  }

  it("finds the only host, or the one --host names; several without --host is refused naming --host", () => {
    const d = flake({ node1: validHost(), node2: { ...validHost(), hostname: "node2" } });
    expect(() => locateHostFile(d)).toThrow(/several hosts \(node1, node2\)/);
    expect(readHostFile(d, { hostname: "node2" }).host.hostname).toBe("node2");
    expect(() => locateHostFile(d, { hostname: "node3" })).toThrow(/--host: .*node3.*does not exist/);
    expect(() => locateHostFile(d, { hostname: "../x" })).toThrow(/--host: /);
  });

  it("a flake folder without flake.nix is refused naming the flag", () => {
    dir = mkdtempSync(join(tmpdir(), "nn-hostfile-"));
    expect(() => locateHostFile(dir, { field: "--flake" })).toThrow(/^--flake: .* has no flake.nix/);
  });

  it("writes atomically and refuses (unchanged file, no temp left) a host it would not read back", () => {
    const d = flake({ node1: validHost() });
    const at = locateHostFile(d);
    const before = readFileSync(at.path, "utf8");
    const bad = { ...validHost(), lockdown: { stage: "none", port: "1; reboot" } } as unknown as HostData;
    expect(() => writeHostFile(at, bad)).toThrow(/hosts\/node1\/host.json: lockdown.port/);
    expect(readFileSync(at.path, "utf8")).toBe(before);
    const next = { ...validHost(), lockdown: { stage: "final" as const, port: 2222 } };
    writeHostFile(at, next);
    expect(JSON.parse(readFileSync(at.path, "utf8"))).toEqual(next);
    expect(readdirSync(join(d, "hosts", "node1"))).toEqual(["host.json"]);
  });
});

describe("state.json", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  it("one key is replaced, the others are kept; the file stays private (0600)", () => {
    dir = mkdtempSync(join(tmpdir(), "nn-state-"));
    mkdirSync(join(dir, ".nixnode"));
    writeFileSync(join(dir, ".nixnode", "state.json"), JSON.stringify({ schema: 1, install: { verified: true } }));
    writeStateKey(dir, "lockdown", { stage: "final", port: 2222 });
    expect(readStateFile(dir)).toEqual({
      schema: 1,
      install: { verified: true },
      lockdown: { stage: "final", port: 2222 },
    });
    expect(statSync(join(dir, ".nixnode", "state.json")).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, ".nixnode"))).toEqual(["state.json"]);
  });
  it("a broken state.json is refused naming it (exit 2) and left as it was", () => {
    dir = mkdtempSync(join(tmpdir(), "nn-state-"));
    mkdirSync(join(dir, ".nixnode"));
    writeFileSync(join(dir, ".nixnode", "state.json"), "{ half");
    expect(() => writeStateKey(dir, "lockdown", {})).toThrow(/^\.nixnode\/state.json: not valid JSON/);
    expect(readFileSync(join(dir, ".nixnode", "state.json"), "utf8")).toBe("{ half");
  });
});
