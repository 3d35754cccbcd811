// The "ubuntu-vps+kexec" personality for the built-in engine: an Ubuntu VPS target (H3's
// ubuntu-vps) whose curl and wget serve a fake nixos-images kexec tarball for the real release URL
// — NO network is used; any other URL fails like an unresolvable host — and whose kexec/run brings
// the machine back as the NixOS installer (lib/kexec-run.mjs) with the installer's tools.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestTarget } from "../index";

const HERE = fileURLToPath(new URL(".", import.meta.url));
export const KEXEC_URL_PATTERN =
  "^https://(github\\.com|gh-v6\\.com)/nix-community/nixos-images/releases/download/nixos-[0-9][0-9]\\.[0-9][0-9]/nixos-kexec-installer-noninteractive-(x86_64|aarch64)-linux\\.tar\\.gz$";

/** `standinsDir`: where this folder is (the benchmark runs this code bundled elsewhere). */
export function addKexecPersonality(t: TestTarget, standinsDir = HERE): { downloadsLog: string } {
  const work = join(t.dir, "standin-kexec");
  mkdirSync(join(work, "kexec"), { recursive: true });
  writeFileSync(
    join(work, "kexec", "run"),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(standinsDir, "lib", "kexec-run.mjs"))} ${JSON.stringify(t.dir)}\n`,
    { mode: 0o755 },
  );
  for (const f of ["bzImage", "initrd"]) writeFileSync(join(work, "kexec", f), `stand-in ${f}\n`);
  const tarball = join(t.dir, "standin-kexec.tar.gz");
  execFileSync("tar", ["-C", work, "-czf", tarball, "kexec"]);
  const downloadsLog = join(t.dir, "standin-downloads.log");
  // curl --fail -sS -L URL  |  wget -q -O- URL : the URL is the last argument not starting with '-'
  const fetcher = (name: string, notFound: string) => `#!/bin/sh
# test stand-in for ${name}: serves the fake kexec tarball for the nixos-images URL, nothing else (no network)
url=""
for a in "$@"; do case "$a" in -*) ;; *) url="$a" ;; esac; done
echo "$url" >> ${JSON.stringify(downloadsLog)}
if [ "$(cat ${JSON.stringify(join(t.dir, "standin-fault"))} 2>/dev/null)" = download-fails ]; then echo "${name}: (22) The requested URL returned error: 503" >&2; exit 22; fi
if printf '%s' "$url" | grep -Eq '${KEXEC_URL_PATTERN}'; then exec cat ${JSON.stringify(tarball)}; fi
echo "${notFound}" >&2
exit ${name === "curl" ? 6 : 4}
`;
  writeFileSync(join(t.shimDir, "curl"), fetcher("curl", "curl: (6) Could not resolve host"), { mode: 0o755 });
  writeFileSync(join(t.shimDir, "wget"), fetcher("wget", "wget: unable to resolve host address"), { mode: 0o755 });
  chmodSync(join(t.shimDir, "curl"), 0o755);
  return { downloadsLog };
}
