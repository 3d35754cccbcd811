import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  addKnownHost,
  checkKnownHost,
  fingerprintSha256,
  keyTypeOf,
  knownHostsName,
  parseKnownHosts,
} from "../../../src/remote/known-hosts";

const dir = mkdtempSync(join(tmpdir(), "nnt-kh-"));
function realKey(name: string): { type: string; blob: Buffer; line: string } {
  const f = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", f]);
  const line = readFileSync(`${f}.pub`, "utf8").trim();
  const [type, b64] = line.split(" ");
  return { type: type!, blob: Buffer.from(b64!, "base64"), line };
}
const hasKeygen = (() => {
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
  } catch (e) {
    return (e as { status?: number }).status !== 127 && (e as NodeJS.ErrnoException).code !== "ENOENT";
  }
  return true;
})();

describe.skipIf(!hasKeygen)(`known_hosts${hasKeygen ? "" : " (skipped: ssh-keygen missing)"}`, () => {
  const a = realKey("a");
  const b = realKey("b");

  it("fingerprints match ssh-keygen -l", () => {
    const out = execFileSync("ssh-keygen", ["-l", "-f", join(dir, "a.pub")], { encoding: "utf8" });
    expect(out).toContain(fingerprintSha256(a.blob));
    expect(keyTypeOf(a.blob)).toBe("ssh-ed25519");
  });

  it("plain, [host]:port, comma lists and wildcards", () => {
    const text = `# comment\n203.0.113.7,node ${a.type} ${a.blob.toString("base64")}\n[203.0.113.7]:2222 ${b.type} ${b.blob.toString("base64")}\n*.lab ${b.type} ${b.blob.toString("base64")}\n`;
    const e = parseKnownHosts(text);
    expect(checkKnownHost(e, "203.0.113.7", 22, a).status).toBe("known");
    expect(checkKnownHost(e, "node", 22, a).status).toBe("known");
    expect(checkKnownHost(e, "203.0.113.7", 2222, b).status).toBe("known");
    expect(checkKnownHost(e, "203.0.113.7", 2222, a).status).toBe("changed");
    expect(checkKnownHost(e, "203.0.113.7", 22, b).status).toBe("changed");
    expect(checkKnownHost(e, "x.lab", 22, b).status).toBe("known");
    expect(checkKnownHost(e, "198.51.100.1", 22, a).status).toBe("unknown");
  });

  it("entries hashed by ssh-keygen -H are found, for port 22 and [host]:port", () => {
    const f = join(dir, "kh_hashed");
    writeFileSync(
      f,
      `203.0.113.7 ${a.type} ${a.blob.toString("base64")}\n[203.0.113.7]:2222 ${b.type} ${b.blob.toString("base64")}\n`,
    );
    execFileSync("ssh-keygen", ["-H", "-f", f], { stdio: "ignore" });
    const text = readFileSync(f, "utf8");
    expect(text).not.toContain("203.0.113.7");
    const e = parseKnownHosts(text);
    expect(checkKnownHost(e, "203.0.113.7", 22, a).status).toBe("known");
    expect(checkKnownHost(e, "203.0.113.7", 2222, b).status).toBe("known");
    expect(checkKnownHost(e, "203.0.113.7", 22, b).status).toBe("changed");
  });

  it("what addKnownHost writes (hashed or not) ssh-keygen -F finds", () => {
    const f = join(dir, "kh_added");
    writeFileSync(f, "# no trailing newline");
    addKnownHost(f, "203.0.113.7", 2222, a);
    addKnownHost(f, "198.51.100.4", 22, b, { hash: true });
    const found = execFileSync("ssh-keygen", ["-F", "[203.0.113.7]:2222", "-f", f], { encoding: "utf8" });
    expect(found).toContain(a.blob.toString("base64"));
    const hashed = execFileSync("ssh-keygen", ["-F", "198.51.100.4", "-f", f], { encoding: "utf8" });
    expect(hashed).toContain(b.blob.toString("base64"));
    expect(checkKnownHost(parseKnownHosts(readFileSync(f, "utf8")), "198.51.100.4", 22, b).status).toBe("known");
  });

  it("@revoked wins; @cert-authority lines are not host keys", () => {
    const text = `@revoked * ${a.type} ${a.blob.toString("base64")}\n203.0.113.7 ${a.type} ${a.blob.toString("base64")}\n@cert-authority 198.51.100.4 ${b.type} ${b.blob.toString("base64")}\n`;
    const e = parseKnownHosts(text);
    expect(checkKnownHost(e, "203.0.113.7", 22, a).status).toBe("revoked");
    expect(checkKnownHost(e, "198.51.100.4", 22, b).status).toBe("unknown");
  });

  it("another key type on record is reported as such, not as changed", () => {
    const rsaLike = {
      type: "ssh-rsa",
      blob: Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from("ssh-rsa"), Buffer.alloc(8)]),
    };
    const e = parseKnownHosts(`203.0.113.7 ${rsaLike.type} ${rsaLike.blob.toString("base64")}\n`);
    expect(checkKnownHost(e, "203.0.113.7", 22, a).status).toBe("other-type");
  });

  it("a public key line is accepted as the key to add", () => {
    const f = join(dir, "kh_line");
    addKnownHost(f, "203.0.113.9", 22, a.line);
    expect(checkKnownHost(parseKnownHosts(readFileSync(f, "utf8")), "203.0.113.9", 22, a).status).toBe("known");
    expect(() => addKnownHost(f, "h", 22, "ssh-rsa " + a.blob.toString("base64"))).toThrow(/not ssh-rsa/);
  });

  it("names", () => {
    expect(knownHostsName("h", 22)).toBe("h");
    expect(knownHostsName("2001:db8::1", 2222)).toBe("[2001:db8::1]:2222");
  });
});
