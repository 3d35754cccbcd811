// A fresh flake: the first secret makes the node's host key, and every secret is encrypted to it
// from the start, so the node can decrypt them on its first boot. Checked with the age CLI using
// the host's own private key, which only the operators can recover from host-key.age.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { x25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readIdentityFile } from "../../../src/secrets/age";
import { secretsForProfile } from "../../../src/secrets/generate-secret";
import { HOST_KEY_PUB, ensureHostKey, generateHostKey, loadHostKey, obtainHostKey, readHostPublicKey, writeEncryptedHostKey } from "../../../src/secrets/host-key";
import { ensureProfileSecrets } from "../../../src/secrets/store";
import { HAVE_AGE, HAVE_SSH_KEYGEN, run, scratch, sshKeygen } from "./tools";

describe("secretsForProfile", () => {
  it("declares what each profile's modules read", () => {
    expect(secretsForProfile("peer-observer")).toEqual([expect.objectContaining({ name: "wireguard", generate: "wireguard" })]);
    // nix-bitcoin makes its own secrets on the node; base reads none
    expect(secretsForProfile("nix-bitcoin")).toEqual([]);
    expect(secretsForProfile("base")).toEqual([]);
  });

  it("names what the profile templates read", () => {
    const tpl = readFileSync(new URL("../../../flake-templates/peer-observer/profile.nix", import.meta.url), "utf8");
    for (const sec of secretsForProfile("peer-observer")) expect(tpl).toContain(`"/run/agenix/${sec.name}"`);
  });
});

describe.skipIf(!HAVE_AGE || !HAVE_SSH_KEYGEN)("ensureProfileSecrets on a flake without a host key", () => {
  const s = scratch();
  const flake = s.path("node");
  beforeAll(() => {
    sshKeygen(s.path("op"), "ed25519", { comment: "alice@laptop" });
    mkdirSync(flake);
    writeFileSync(join(flake, "nixnode.json"), JSON.stringify({ hostname: "observer1", ssh: { authorizedKeys: [readFileSync(s.path("op.pub"), "utf8").trim()] } }));
  });
  afterAll(() => s.remove());

  it("creates the host key, then the WireGuard key encrypted to the operator AND that host key", async () => {
    const r = await ensureProfileSecrets(flake, "peer-observer");
    expect(r.created).toEqual(["wireguard"]);
    expect(r.hostKeyCreated).toMatch(/^SHA256:/);
    expect(readHostPublicKey(flake)!.fingerprint).toBe(r.hostKeyCreated);
    expect(readFileSync(join(flake, HOST_KEY_PUB), "utf8")).toMatch(/ root@observer1\n$/);

    // the operator recovers the host's private key, and with it the node decrypts its secret
    const hostKey = (await loadHostKey(flake, readIdentityFile(s.path("op"), "-i")))!;
    expect(hostKey.fingerprint).toBe(r.hostKeyCreated);
    writeFileSync(s.path("host"), hostKey.privateKey, { mode: 0o600 });
    const wg = run("age", ["-d", "-i", s.path("host"), join(flake, "secrets/wireguard.age")]).toString();
    expect(wg).toBe(run("age", ["-d", "-i", s.path("op"), join(flake, "secrets/wireguard.age")]).toString());
    const pub = Buffer.from(x25519.getPublicKey(new Uint8Array(Buffer.from(wg.trim(), "base64")))).toString("base64");
    expect(readFileSync(join(flake, "keys/wireguard.pub"), "utf8")).toBe(`${pub}\n`);
  });

  it("is idempotent: a second run creates nothing and keeps the host key", async () => {
    const before = readHostPublicKey(flake)!.fingerprint;
    const wgBefore = readFileSync(join(flake, "secrets/wireguard.age"));
    expect(await ensureProfileSecrets(flake, "peer-observer")).toEqual({ created: [], hostKeyCreated: null });
    expect(await ensureHostKey(flake, [readFileSync(s.path("op.pub"), "utf8")], "x")).toEqual({ fingerprint: before, created: false });
    expect(readFileSync(join(flake, "secrets/wireguard.age"))).toEqual(wgBefore);
  });

  it("obtainHostKey (the install's call) reuses the flake's key, asking for identities only then", async () => {
    let asked = 0;
    const ids = () => {
      asked++;
      return readIdentityFile(s.path("op"), "-i");
    };
    const r = await obtainHostKey(flake, { operators: [readFileSync(s.path("op.pub"), "utf8")], comment: "root@observer1", identities: ids });
    expect(r.created).toBe(false);
    expect(r.key.fingerprint).toBe(readHostPublicKey(flake)!.fingerprint);
    expect(r.key.privateKey).toBe(readFileSync(s.path("host"), "utf8"));
    expect(asked).toBe(1);
    const empty = s.path("empty");
    mkdirSync(empty);
    const n = await obtainHostKey(empty, { operators: [readFileSync(s.path("op.pub"), "utf8")], comment: "root@new", identities: ids });
    expect(n.created).toBe(true);
    expect(asked).toBe(1);
    expect(readHostPublicKey(empty)!.fingerprint).toBe(n.key.fingerprint);
  });

  it("refuses to replace the host key once secrets are encrypted to it (they would be lost to the node)", async () => {
    const before = readFileSync(join(flake, HOST_KEY_PUB), "utf8");
    await expect(writeEncryptedHostKey(flake, generateHostKey(), [readFileSync(s.path("op.pub"), "utf8")])).rejects.toThrow(/already has a host key .* 1 secret\(s\) encrypted to it/);
    expect(readFileSync(join(flake, HOST_KEY_PUB), "utf8")).toBe(before);
  });

  it("a profile that needs nothing adds nothing", async () => {
    expect(await ensureProfileSecrets(flake, "nix-bitcoin")).toEqual({ created: [], hostKeyCreated: null });
  });
});
