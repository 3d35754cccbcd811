// The nixos-images kexec installer both engines boot: which asset of which release (the planned NixOS
// release, src/plan/releases.ts), where it is downloaded from, and the SHA-256 it must have. The digest
// comes from the operator (--kexec-sha256) or from GitHub's releases API (each asset carries
// `"digest": "sha256:..."`), fetched on the operator's machine; without one the image is unverified
// and the caller says so. The built-in engine checks the hash ON THE TARGET (kexecStartScript) before
// unpacking; the nixos-anywhere engine downloads and checks it here and hands nixos-anywhere the file.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OperationError, UserError } from "../errors";
import type { Facts } from "../facts/types";
import { findRelease } from "../plan/releases";
import { shellQuote } from "../util/shell-quote";

const REPO = "nix-community/nixos-images";
/**
 * Where the release metadata and the tarball come from. The defaults are GitHub; the environment
 * variables exist for tests and for a mirror the operator trusts (docs/install.md): the digest still
 * has to match, so a mirror can make the install fail but not boot something else.
 */
export const KEXEC_API_BASE_ENV = "NIXNODE_KEXEC_API_BASE";
export const KEXEC_DOWNLOAD_BASE_ENV = "NIXNODE_KEXEC_DOWNLOAD_BASE";

export interface KexecImage {
  /** nixos-images release tag, e.g. nixos-26.05. */
  tag: string;
  /** nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz */
  assetName: string;
  url: string;
  /** Lower-case hex; null: nothing to check against (the caller warns that the image is unverified). */
  sha256: string | null;
  /** Where the digest came from, or why there is none. */
  digestSource: "--kexec-sha256" | "github-release" | null;
  unverifiedReason: string | null;
}

export interface KexecImageRequest {
  arch: Facts["arch"];
  /** The planned NixOS release ("26.05"): the image is the installer of that release. */
  release: string;
  ipv6Only: boolean;
  /** --kexec-sha256 as the operator wrote it; undefined/null: ask the releases API. */
  sha256?: string | null;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export function kexecAssetName(arch: Facts["arch"]): string {
  if (arch !== "x86_64" && arch !== "aarch64") {
    throw new OperationError(`the kexec installer exists only for x86_64 and aarch64; this target is ${arch}`, {
      hint: "boot the machine from a NixOS installer image instead, then run nixnode-install --local on it",
    });
  }
  return `nixos-kexec-installer-noninteractive-${arch}-linux.tar.gz`;
}

/** The nixos-images tag for a NixOS release: from the releases table, else nixos-<version> (its naming rule). */
export function kexecTag(release: string): string {
  return findRelease(release)?.kexecTag ?? `nixos-${release}`;
}

function base(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const v = env[name]?.trim();
  if (!v) return fallback;
  if (!/^https?:\/\/[^\s"'`$\\]+$/.test(v))
    throw new UserError(`${name}: not an http(s) URL: ${JSON.stringify(v)}`, {
      field: name,
      hint: `unset it to use GitHub, or give a base URL such as http://127.0.0.1:8080`,
    });
  return v.replace(/\/+$/, "");
}

/** The download URL of the release's tarball for this architecture. */
export function kexecTarballUrl(
  arch: Facts["arch"],
  release: string,
  opts: { ipv6Only: boolean; env?: NodeJS.ProcessEnv },
): string {
  // github.com has no AAAA record; gh-v6.com is the IPv6 mirror nixos-anywhere uses for IPv6-only targets.
  const dflt = opts.ipv6Only ? "https://gh-v6.com" : "https://github.com";
  const b = base(opts.env ?? {}, KEXEC_DOWNLOAD_BASE_ENV, dflt);
  return `${b}/${REPO}/releases/download/${kexecTag(release)}/${kexecAssetName(arch)}`;
}

/** --kexec-sha256: 64 hex digits, optionally prefixed "sha256:" as GitHub prints it. */
export function parseSha256Flag(value: string): string {
  const v = value.trim().replace(/^sha256:/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(v))
    throw new UserError(`--kexec-sha256: expected 64 hexadecimal digits, got ${JSON.stringify(value)}`, {
      field: "--kexec-sha256",
      hint: "copy the digest of the kexec tarball from its GitHub release page (sha256:...), or leave the flag out",
    });
  return v.toLowerCase();
}

/** True when the target has a global IPv6 address and no global IPv4 one (nor an IPv4 default route). */
export function isIpv6Only(net: Facts["network"]): boolean {
  const globals = net.interfaces.flatMap((i) => i.addresses).filter((a) => a.scope === "global");
  return globals.some((a) => a.family === 6) && !globals.some((a) => a.family === 4) && net.defaultGateway4 === null;
}

/** Which image, from where, with which digest. Touches nothing; asks the releases API when no digest was given. */
export async function resolveKexecImage(r: KexecImageRequest): Promise<KexecImage> {
  const assetName = kexecAssetName(r.arch);
  const tag = kexecTag(r.release);
  const url = kexecTarballUrl(r.arch, r.release, { ipv6Only: r.ipv6Only, env: r.env });
  if (r.sha256 != null) {
    return {
      tag,
      assetName,
      url,
      sha256: parseSha256Flag(r.sha256),
      digestSource: "--kexec-sha256",
      unverifiedReason: null,
    };
  }
  const api = `${base(r.env, KEXEC_API_BASE_ENV, "https://api.github.com")}/repos/${REPO}/releases/tags/${encodeURIComponent(tag)}`;
  const unverified = (why: string): KexecImage => ({
    tag,
    assetName,
    url,
    sha256: null,
    digestSource: null,
    unverifiedReason: why,
  });
  let body: unknown;
  try {
    const res = await (r.fetch ?? fetch)(api, {
      headers: { accept: "application/vnd.github+json", "user-agent": "nixnode-install" },
      signal: r.signal ?? AbortSignal.timeout(20_000),
    });
    if (res.status === 404)
      throw new OperationError(`nixos-images has no release ${tag} (${api} answered 404)`, {
        hint: "plan for a NixOS release that has a kexec installer (see docs/install.md), or check the release table",
      });
    if (!res.ok) return unverified(`the releases API answered HTTP ${res.status} (${api})`);
    body = await res.json();
  } catch (e) {
    if (e instanceof OperationError) throw e;
    return unverified(`the releases API could not be reached (${api}: ${(e as Error).message})`);
  }
  const assets = (body as { assets?: Array<{ name?: unknown; digest?: unknown }> })?.assets;
  if (!Array.isArray(assets)) return unverified(`the releases API's answer lists no assets (${api})`);
  const asset = assets.find((a) => a?.name === assetName);
  if (!asset)
    throw new OperationError(`nixos-images release ${tag} has no asset ${assetName}`, {
      details: [`assets: ${assets.map((a) => String(a?.name)).join(", ") || "none"}`],
      hint: "this release has no kexec installer for the target's architecture",
    });
  const digest = typeof asset.digest === "string" ? /^sha256:([0-9a-fA-F]{64})$/.exec(asset.digest.trim()) : null;
  if (!digest) return unverified(`the release asset ${assetName} of ${tag} publishes no SHA-256 digest`);
  return {
    tag,
    assetName,
    url,
    sha256: digest[1]!.toLowerCase(),
    digestSource: "github-release",
    unverifiedReason: null,
  };
}

/** The operator-facing warning for an image that cannot be checked. */
export function unverifiedWarning(img: KexecImage): string {
  return `the kexec image ${img.tag}/${img.assetName} is UNVERIFIED: ${img.unverifiedReason}; it will boot without a hash check (pass --kexec-sha256 to check it)`;
}

/** Exit codes of kexecStartScript, for the caller's messages. */
export const KEXEC_SCRIPT_EXIT = { noFetcher: 20, download: 21, notTarball: 22, noRun: 23, mismatch: 24, noHasher: 25 };

/**
 * The target-side script: download with curl or wget into $dir, check the SHA-256 when one is known
 * (a mismatch deletes the file and exits 24 before anything is unpacked or started), unpack, and start
 * kexec/run detached (setsid, output to a log) so that the SSH session ending does not stop it. Prints
 * one line `nixnode-kexec: started` when the installer is on its way; a failure exits non-zero with the reason.
 */
export function kexecStartScript(image: Pick<KexecImage, "url" | "sha256">, dir = "/root/kexec"): string {
  const q = shellQuote;
  const E = KEXEC_SCRIPT_EXIT;
  const check = image.sha256
    ? `want=${q(image.sha256)}
if command -v sha256sum >/dev/null 2>&1; then got=$(sha256sum installer.tar.gz | cut -d' ' -f1)
elif command -v shasum >/dev/null 2>&1; then got=$(shasum -a 256 installer.tar.gz | cut -d' ' -f1)
elif command -v openssl >/dev/null 2>&1; then got=$(openssl dgst -sha256 -r installer.tar.gz | cut -d' ' -f1)
else rm -rf "$dir"; echo "nixnode-kexec: no sha256sum, shasum or openssl on the target to check the image" >&2; exit ${E.noHasher}; fi
if [ "$got" != "$want" ]; then
  rm -rf "$dir"
  echo "nixnode-kexec: SHA-256 mismatch: expected $want, downloaded $got" >&2
  exit ${E.mismatch}
fi
echo "nixnode-kexec: sha256 ok $got"
`
    : "";
  return `set -eu
dir=${q(dir)}
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
if command -v curl >/dev/null 2>&1; then fetch() { curl --fail -sS -L "$1"; }
elif command -v wget >/dev/null 2>&1; then fetch() { wget -q -O- "$1"; }
else echo "nixnode-kexec: neither curl nor wget is installed on the target" >&2; exit ${E.noFetcher}; fi
fetch ${q(image.url)} > installer.tar.gz || { echo "nixnode-kexec: download failed: "${q(image.url)} >&2; exit ${E.download}; }
${check}tar -xzf installer.tar.gz || { echo "nixnode-kexec: the download is not a kexec tarball" >&2; exit ${E.notTarball}; }
[ -x kexec/run ] || { echo "nixnode-kexec: kexec/run missing from the tarball" >&2; exit ${E.noRun}; }
setsid sh -c 'sleep 1; exec ./kexec/run' > "$dir/kexec.log" 2>&1 < /dev/null &
echo "nixnode-kexec: started"
`;
}

/**
 * For nixos-anywhere: downloads the tarball on the operator's machine into `dir` (a private temp
 * folder), checks its SHA-256 when one is known, and returns the local path to pass to --kexec
 * (nixos-anywhere uploads a local file), so what boots is what was checked. A mismatch deletes the file
 * and throws before anything on the target changed.
 */
export async function downloadKexecImage(
  img: KexecImage,
  dir: string,
  opts: { fetch?: typeof fetch; signal?: AbortSignal } = {},
): Promise<string> {
  const path = join(dir, img.assetName);
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(img.url, { headers: { "user-agent": "nixnode-install" }, signal: opts.signal });
  } catch (e) {
    throw new OperationError(`downloading the kexec installer failed: ${img.url}: ${(e as Error).message}`, {
      details: ["Nothing was changed on the target."],
    });
  }
  if (!res.ok || !res.body)
    throw new OperationError(`downloading the kexec installer failed: ${img.url} answered HTTP ${res.status}`, {
      details: ["Nothing was changed on the target."],
    });
  const hash = createHash("sha256");
  const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
  body.on("data", (chunk: Buffer) => hash.update(chunk));
  await pipeline(body, createWriteStream(path, { mode: 0o600 }));
  const got = hash.digest("hex");
  if (img.sha256 && got !== img.sha256) {
    await rm(path, { force: true });
    throw new OperationError(`the kexec installer's SHA-256 does not match: nothing was changed on the target`, {
      details: [`${img.url}`, `expected ${img.sha256} (${img.digestSource})`, `downloaded ${got}`],
      hint: "the download was altered or the digest is wrong; try again, or check --kexec-sha256",
    });
  }
  return path;
}
