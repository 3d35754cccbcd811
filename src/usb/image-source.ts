// The image to write and the SHA-256 it must have, settled BEFORE the disk is opened: a --image file
// checked against --sha256 (no hash ships with the tool: the channel's "latest" ISO changes with every
// point build, so any hash baked in here would be stale or invented), or the release's official ISO
// downloaded over HTTPS and checked against the hash file published beside it.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { badField, OperationError } from "../errors";
import { minimalIsoUrl, type IsoArch } from "../plan/releases";

export type Progress = (done: number, total: number) => void;

export function parseSha256(value: string, field: string): string {
  const v = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(v))
    throw badField(
      field,
      `${JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value)} is not a SHA-256 (64 hex digits)`,
      "copy the hash published beside the image (the .sha256 file), or run sha256sum on a copy you trust",
    );
  return v;
}

/** --mirror: HTTPS, or plain HTTP only to this machine (a local mirror, the tests' server). */
export function parseMirror(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw badField(
      "--mirror",
      `${JSON.stringify(value)} is not a URL`,
      "give a base URL such as https://channels.nixos.org",
    );
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback))
    throw badField(
      "--mirror",
      `${u.protocol}// is not allowed for ${u.host}`,
      "use https:// (plain http is accepted only for a mirror on this machine: 127.0.0.1, localhost, [::1])",
    );
  if (u.search || u.hash || u.username || u.password)
    throw badField(
      "--mirror",
      "must be a plain base URL (no credentials, query or fragment)",
      "e.g. https://channels.nixos.org",
    );
  return u.toString().replace(/\/+$/, "");
}

export async function hashFile(path: string, signal: AbortSignal, progress?: Progress): Promise<string> {
  const total = statSync(path).size;
  const h = createHash("sha256");
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
    h.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    progress?.(done, total);
  }
  return h.digest("hex");
}

export interface Published {
  isoUrl: string;
  sha256: string;
  /** The real file name behind "latest-…" (nixos-minimal-26.05.1234.abcdef-x86_64-linux.iso). */
  fileName: string;
}

async function get(url: string, signal: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: "follow" });
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new OperationError(`cannot download ${url}: ${(e as Error).cause ?? (e as Error).message}`, {
      hint: "check the network (or --mirror), then run the command again; nothing was written",
    });
  }
  if (!res.ok)
    throw new OperationError(`cannot download ${url}: HTTP ${res.status}`, {
      hint: "check --release/--arch (and --mirror); nothing was written",
    });
  // A redirect to plain http off this machine would defeat the HTTPS requirement.
  if (res.url && res.url !== url) parseMirrorRedirect(res.url);
  return res;
}

function parseMirrorRedirect(url: string): void {
  const u = new URL(url);
  if (u.protocol === "https:" || ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) return;
  throw new OperationError(`the download was redirected to ${u.protocol}//${u.host}, which is not HTTPS`, {
    hint: "nothing was written; use an HTTPS mirror (--mirror)",
  });
}

export async function publishedHash(
  version: string,
  arch: IsoArch,
  base: string,
  signal: AbortSignal,
): Promise<Published> {
  const isoUrl = minimalIsoUrl(version, arch, base);
  const text = await (await get(`${isoUrl}.sha256`, signal)).text();
  const m = /^([0-9a-fA-F]{64})\s+\*?(\S+)/.exec(text.trim());
  if (!m)
    throw new OperationError(`${isoUrl}.sha256 does not hold a SHA-256 line ("<hex>  <file>")`, {
      hint: "nothing was written; try again later or another mirror",
    });
  return { isoUrl, sha256: m[1]!.toLowerCase(), fileName: m[2]! };
}

/** Streams the ISO to `dest`, hashing as it goes; returns the SHA-256 and the size. */
export async function download(
  url: string,
  dest: string,
  signal: AbortSignal,
  progress?: Progress,
): Promise<{ sha256: string; bytes: number }> {
  const res = await get(url, signal);
  const total = Number(res.headers.get("content-length") ?? 0);
  const h = createHash("sha256");
  const file = createWriteStream(dest, { mode: 0o600 });
  let bytes = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      h.update(chunk);
      bytes += chunk.length;
      if (!file.write(chunk)) await new Promise<void>((r) => file.once("drain", () => r()));
      progress?.(bytes, total);
    }
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new OperationError(`the download of ${url} broke off after ${bytes} bytes: ${(e as Error).message}`, {
      hint: "nothing was written to the disk; run the command again",
    });
  } finally {
    await new Promise<void>((r) => file.end(r));
  }
  if (total && bytes !== total)
    throw new OperationError(`the download of ${url} stopped at ${bytes} of ${total} bytes`, {
      hint: "nothing was written to the disk; run the command again",
    });
  return { sha256: h.digest("hex"), bytes };
}
