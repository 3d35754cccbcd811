// The "ubuntu-vps+kexec" personality for the built-in engine: an Ubuntu VPS target (H3's ubuntu-vps)
// with a system "disk" (a file whose bytes a test can compare), whose curl and wget download ONLY from
// the suite's own kexec mirror (startKexecMirror: an HTTP server on loopback and on the operator side
// of the target's veth; any other URL fails like an unresolvable host, so no network is ever used), and
// whose kexec/run brings the machine back as the NixOS installer (lib/kexec-run.mjs). The installer
// lives in RAM as the real one does: a reboot that has no installed system to boot brings Ubuntu back
// (os-release, no installer tools), with its original host key.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NIXOS_RELEASES } from "../../../src/plan/releases";
import type { TestTarget } from "../index";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ASSET = /^nixos-kexec-installer-noninteractive-(x86_64|aarch64)-linux\.tar\.gz$/;

export interface KexecPersonality {
  /** One line per URL the target's curl/wget was asked for. */
  downloadsLog: string;
  /** The target's system "disk": the stand-in disko script overwrites it (a file, or a loop device). */
  diskImage: string;
  /** Detaches the loop device (with `loopDisk`); a no-op for a file disk. */
  releaseDisk(): void;
  /** The fake installer tarball the mirror serves. */
  tarball: string;
}

/** `standinsDir`: where this folder is (the benchmark runs this code bundled elsewhere). */
export function addKexecPersonality(
  t: TestTarget,
  standinsDir = HERE,
  opts: { loopDisk?: boolean } = {},
): KexecPersonality {
  const work = join(t.dir, "standin-kexec");
  mkdirSync(join(work, "kexec"), { recursive: true });
  writeFileSync(
    join(work, "kexec", "run"),
    // the marker tells the RAM-only hook below that THIS reboot is the kexec into the installer
    `#!/bin/sh\ntouch ${JSON.stringify(join(work, "kexec-booting"))}\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(standinsDir, "lib", "kexec-run.mjs"))} ${JSON.stringify(t.dir)}\n`,
    { mode: 0o755 },
  );
  for (const f of ["bzImage", "initrd"]) writeFileSync(join(work, "kexec", f), `stand-in ${f}\n`);
  const tarball = join(t.dir, "standin-kexec.tar.gz");
  execFileSync("tar", ["-C", work, "-czf", tarball, "kexec"]);

  // the disk: random bytes; /root/.nixnode-standin-disk (inside the target) says where it is, so the
  // installer's stand-in disko script (installer/nix.mjs) can "format" it
  // With `loopDisk` the disk is a real block device: a loop device over a sparse 8 MiB file, its first
  // 64 KiB random, so "the disks were not touched" is checked on a device as a real disk would be.
  const backing = join(t.dir, "standin-disk.img");
  writeFileSync(backing, randomBytes(64 * 1024));
  let diskImage = backing;
  let releaseDisk = () => {};
  if (opts.loopDisk) {
    execFileSync("truncate", ["-s", "8M", backing]);
    const dev = execFileSync("losetup", ["--find", "--show", backing], { encoding: "utf8" }).trim();
    diskImage = dev;
    releaseDisk = () => {
      try {
        execFileSync("losetup", ["-d", dev], { stdio: "ignore" });
      } catch {
        // already detached
      }
    };
  }
  writeFileSync(join(t.dir, "root", ".nixnode-standin-disk"), `${diskImage}\n`);

  // RAM-only installer: at a reboot with no installed system staged (no 10-nixnode-installed-system
  // hook), Ubuntu's os-release comes back and the installer's tools are gone
  const upper = join(t.dir, "etc-upper", "os-release");
  writeFileSync(join(work, "os-release.before"), readFileSync(existsSync(upper) ? upper : "/etc/os-release"));
  mkdirSync(join(t.dir, "reboot.d"), { recursive: true });
  writeFileSync(
    join(t.dir, "reboot.d", "05-nixnode-kexec-ram-only"),
    `#!/bin/sh
# test stand-in: the kexec installer ran in RAM; without an installed system the old OS boots again
[ -e ${JSON.stringify(join(work, "kexec-booting"))} ] && { rm -f ${JSON.stringify(join(work, "kexec-booting"))}; exit 0; }
[ -e ${JSON.stringify(join(t.dir, "reboot.d", "10-nixnode-installed-system"))} ] && exit 0
grep -q '^VARIANT_ID=installer' /etc/os-release 2>/dev/null || exit 0
rm -f /etc/os-release && cat ${JSON.stringify(join(work, "os-release.before"))} > /etc/os-release
rm -f /usr/local/sbin/nix /usr/local/sbin/nixos-install
echo "kexec stand-in: the installer was in RAM; booted the previous system"
`,
    { mode: 0o755 },
  );

  const downloadsLog = join(t.dir, "standin-downloads.log");
  // curl --fail -sS -L URL  |  wget -q -O- URL : the URL is the last argument not starting with '-'
  const mirror = `http://${t.operatorAddress}:`;
  const fetcher = (name: string, real: string, notFound: string) => `#!/bin/sh
# test stand-in for ${name}: downloads only from the suite's kexec mirror on ${t.operatorAddress} (no network)
url=""
for a in "$@"; do case "$a" in -*) ;; *) url="$a" ;; esac; done
echo "$url" >> ${JSON.stringify(downloadsLog)}
if [ "$(cat ${JSON.stringify(join(t.dir, "standin-fault"))} 2>/dev/null)" = download-fails ]; then echo "${name}: (22) The requested URL returned error: 503" >&2; exit 22; fi
case "$url" in ${mirror}*) exec ${real} "$@" ;; esac
echo "${notFound}" >&2
exit ${name === "curl" ? 6 : 4}
`;
  writeFileSync(join(t.shimDir, "curl"), fetcher("curl", "/usr/bin/curl", "curl: (6) Could not resolve host"), {
    mode: 0o755,
  });
  writeFileSync(join(t.shimDir, "wget"), fetcher("wget", "/usr/bin/wget", "wget: unable to resolve host address"), {
    mode: 0o755,
  });
  chmodSync(join(t.shimDir, "curl"), 0o755);
  return { downloadsLog, diskImage, tarball, releaseDisk };
}

export type MirrorDigest = "good" | "wrong" | "missing";

export interface KexecMirror {
  /** NIXNODE_KEXEC_API_BASE and NIXNODE_KEXEC_DOWNLOAD_BASE for the tool. */
  env: Record<string, string>;
  /** The SHA-256 of the tarball served. */
  sha256: string;
  /** What the releases API publishes as the asset's digest from now on. */
  setDigest(d: MirrorDigest): void;
  /** Request paths, in order (release metadata and downloads). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * The suite's stand-in for GitHub: the releases API (`/repos/nix-community/nixos-images/releases/tags/<tag>`,
 * each asset with a `digest`) and the release downloads, serving `tarball` as every kexec asset. It listens
 * on 127.0.0.1 (the operator's side: metadata, and nixos-anywhere's local download) and, when `downloadsFrom`
 * is given, on that address too (the operator side of a target's veth, which the built-in engine's target
 * downloads from). The releases it knows: the kexec tags of src/plan/releases.ts (others answer 404).
 */
export async function startKexecMirror(
  tarball: string,
  o: { downloadsFrom?: string; digest?: MirrorDigest } = {},
): Promise<KexecMirror> {
  const body = readFileSync(tarball);
  const sha256 = createHash("sha256").update(body).digest("hex");
  let digest: MirrorDigest = o.digest ?? "good";
  const requests: string[] = [];
  const handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const path = (req.url ?? "").split("?")[0]!;
    requests.push(path);
    const api = /^\/repos\/nix-community\/nixos-images\/releases\/tags\/(nixos-\d\d\.\d\d)$/.exec(path);
    if (api && NIXOS_RELEASES.some((r) => r.kexecTag === api[1])) {
      const assets = ["x86_64", "aarch64"].map((arch) => ({
        name: `nixos-kexec-installer-noninteractive-${arch}-linux.tar.gz`,
        size: body.length,
        ...(digest === "missing"
          ? {}
          : { digest: `sha256:${digest === "good" ? sha256 : createHash("sha256").update("not it").digest("hex")}` }),
      }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ tag_name: api[1], assets }));
      return;
    }
    const dl = /^\/nix-community\/nixos-images\/releases\/download\/nixos-\d\d\.\d\d\/([^/]+)$/.exec(path);
    if (dl && ASSET.test(dl[1]!)) {
      res.writeHead(200, { "content-type": "application/gzip", "content-length": body.length });
      res.end(body);
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"message":"Not Found"}');
  };
  const listen = (host: string) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer(handler);
      s.once("error", reject);
      s.listen(0, host, () => resolve(s));
    });
  const local = await listen("127.0.0.1");
  const remote = o.downloadsFrom ? await listen(o.downloadsFrom) : null;
  const url = (s: Server, host: string) => `http://${host}:${(s.address() as AddressInfo).port}`;
  return {
    env: {
      NIXNODE_KEXEC_API_BASE: url(local, "127.0.0.1"),
      NIXNODE_KEXEC_DOWNLOAD_BASE: remote ? url(remote, o.downloadsFrom!) : url(local, "127.0.0.1"),
    },
    sha256,
    setDigest(d) {
      digest = d;
    },
    requests,
    async close() {
      for (const s of [local, remote]) {
        if (!s) continue;
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
