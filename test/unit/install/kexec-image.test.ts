// The kexec image: which release asset, its digest from the (stand-in) GitHub releases API or the
// operator, the target-side script that refuses a tarball with the wrong SHA-256 before unpacking it,
// and the operator-side download for nixos-anywhere. Served by the suite's mirror on 127.0.0.1.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationError, UserError } from "../../../src/errors";
import {
  downloadKexecImage,
  isIpv6Only,
  kexecStartScript,
  kexecTarballUrl,
  parseSha256Flag,
  resolveKexecImage,
} from "../../../src/install/kexec-image";
import { DEFAULT_NIXOS_RELEASE, findRelease } from "../../../src/plan/releases";
import { startKexecMirror, type KexecMirror } from "../../targets/standins/kexec-personality";

let work: string;
let tarball: string;
let mirror: KexecMirror;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "nn-kexec-image-"));
  // a tarball whose kexec/run leaves a mark instead of booting anything
  mkdirSync(join(work, "src", "kexec"), { recursive: true });
  writeFileSync(join(work, "src", "kexec", "run"), `#!/bin/sh\necho ran > "$(dirname "$0")/../../ran"\n`, {
    mode: 0o755,
  });
  tarball = join(work, "installer.tar.gz");
  execFileSync("tar", ["-C", join(work, "src"), "-czf", tarball, "kexec"]);
  mirror = await startKexecMirror(tarball);
});
afterAll(async () => {
  await mirror.close();
  rmSync(work, { recursive: true, force: true });
});

const req = (o: Partial<Parameters<typeof resolveKexecImage>[0]> = {}) =>
  resolveKexecImage({ arch: "x86_64", release: DEFAULT_NIXOS_RELEASE, ipv6Only: false, env: mirror.env, ...o });

describe("which kexec image, with which digest", () => {
  it("takes the planned release's tag from the releases table and the digest GitHub publishes", async () => {
    mirror.setDigest("good");
    const img = await req();
    const tag = findRelease(DEFAULT_NIXOS_RELEASE)!.kexecTag;
    expect(img.tag).toBe(tag);
    expect(img.url).toBe(
      `${mirror.env.NIXNODE_KEXEC_DOWNLOAD_BASE}/nix-community/nixos-images/releases/download/${tag}/nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz`,
    );
    expect(img.sha256).toBe(createHash("sha256").update(readFileSync(tarball)).digest("hex"));
    expect(img.digestSource).toBe("github-release");
    expect(mirror.requests).toContain(`/repos/nix-community/nixos-images/releases/tags/${tag}`);
  });

  it("says why the image is unverified when the release publishes no digest", async () => {
    mirror.setDigest("missing");
    const img = await req();
    expect(img.sha256).toBeNull();
    expect(img.unverifiedReason).toMatch(/publishes no SHA-256 digest/);
    mirror.setDigest("good");
  });

  it("says why when the releases API cannot be reached", async () => {
    const img = await req({ env: { NIXNODE_KEXEC_API_BASE: "http://127.0.0.1:1" } });
    expect(img.sha256).toBeNull();
    expect(img.unverifiedReason).toMatch(/could not be reached/);
  });

  it("uses the operator's --kexec-sha256 without asking the API", async () => {
    const before = mirror.requests.length;
    const img = await req({ sha256: `sha256:${"AB".repeat(32)}` });
    expect(img.sha256).toBe("ab".repeat(32));
    expect(img.digestSource).toBe("--kexec-sha256");
    expect(mirror.requests.length).toBe(before);
  });

  it("refuses a malformed --kexec-sha256 and an unknown release tag", async () => {
    expect(() => parseSha256Flag("1234")).toThrow(UserError);
    expect(() => parseSha256Flag("1234")).toThrow(/--kexec-sha256/);
    await expect(req({ release: "19.03" })).rejects.toThrow(OperationError);
    await expect(req({ env: { NIXNODE_KEXEC_API_BASE: "file:///etc" } })).rejects.toThrow(/NIXNODE_KEXEC_API_BASE/);
  });

  it("picks the arch and the IPv6 mirror by default", () => {
    const tag = findRelease(DEFAULT_NIXOS_RELEASE)!.kexecTag;
    expect(kexecTarballUrl("aarch64", DEFAULT_NIXOS_RELEASE, { ipv6Only: false })).toBe(
      `https://github.com/nix-community/nixos-images/releases/download/${tag}/nixos-kexec-installer-noninteractive-aarch64-linux.tar.gz`,
    );
    expect(kexecTarballUrl("x86_64", DEFAULT_NIXOS_RELEASE, { ipv6Only: true })).toMatch(/^https:\/\/gh-v6\.com\//);
    expect(() => kexecTarballUrl("armv7l", DEFAULT_NIXOS_RELEASE, { ipv6Only: false })).toThrow(/x86_64 and aarch64/);
  });

  it("recognises an IPv6-only network", () => {
    const iface = (fam: 4 | 6, address: string) => ({
      name: "eth0",
      mac: null,
      driver: null,
      state: "up" as const,
      mtu: null,
      kind: "ethernet" as const,
      addresses: [{ family: fam, address, prefix: 64, scope: "global" as const, dynamic: false }],
    });
    const net = (ifs: ReturnType<typeof iface>[]) => ({
      interfaces: ifs,
      routes: [],
      defaultGateway4: null,
      defaultGateway6: null,
      dns: [],
      dhcp4: false,
    });
    expect(isIpv6Only(net([iface(6, "2001:db8::2")]))).toBe(true);
    expect(isIpv6Only(net([iface(6, "2001:db8::2"), iface(4, "203.0.113.7")]))).toBe(false);
  });
});

describe("the target-side script checks the hash before unpacking", () => {
  // async: the mirror answering curl lives in this process
  const runScript = async (sha256: string | null) => {
    const dir = join(work, `kexec-${Math.random().toString(36).slice(2)}`);
    const url = `${mirror.env.NIXNODE_KEXEC_DOWNLOAD_BASE}/nix-community/nixos-images/releases/download/nixos-26.05/nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz`;
    const child = spawn("sh", ["-c", kexecStartScript({ url, sha256 }, dir)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const status = await new Promise<number | null>((res) => child.on("close", res));
    return { status, stdout, stderr, dir };
  };
  const good = () => createHash("sha256").update(readFileSync(tarball)).digest("hex");

  it("a matching tarball is unpacked and started", async () => {
    const r = await runScript(good());
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("nixnode-kexec: sha256 ok");
    expect(r.stdout).toContain("nixnode-kexec: started");
    // kexec/run starts after a second, detached
    const ran = join(r.dir, "..", "ran");
    for (let i = 0; i < 40 && !existsSync(ran); i++) await new Promise((res) => setTimeout(res, 100));
    expect(existsSync(ran)).toBe(true);
    rmSync(ran);
  });

  it("a mismatch exits 24, deletes the download and starts nothing", async () => {
    const r = await runScript("0".repeat(64));
    expect(r.status).toBe(24);
    expect(r.stderr).toMatch(/SHA-256 mismatch: expected 0{64}, downloaded [0-9a-f]{64}/);
    expect(existsSync(r.dir)).toBe(false);
    await new Promise((res) => setTimeout(res, 1500));
    expect(existsSync(join(r.dir, "..", "ran"))).toBe(false);
  });
});

describe("the operator-side download (nixos-anywhere gets the local file)", () => {
  it("keeps a matching file and deletes a mismatching one", async () => {
    mirror.setDigest("good");
    const img = await req();
    const dir = mkdtempSync(join(work, "dl-"));
    const path = await downloadKexecImage(img, dir);
    expect(readFileSync(path).equals(readFileSync(tarball))).toBe(true);
    rmSync(path);
    mirror.setDigest("wrong");
    const bad = await req();
    await expect(downloadKexecImage(bad, dir)).rejects.toThrow(/SHA-256 does not match: nothing was changed/);
    expect(existsSync(join(dir, bad.assetName))).toBe(false);
    mirror.setDigest("good");
  });
});
