// The files a NixOS install built from the tool's flake would leave in /mnt, rendered from the
// flake's host.json (the same data the generated .nix modules read): NixOS os-release of the planned
// release, the planned hostname, and root's authorized_keys holding host.json's keys ONLY.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export function readHostJson(flakeDir, hostName) {
  const p = join(flakeDir, "hosts", hostName, "host.json");
  let data;
  try {
    data = JSON.parse(readFileSync(p, "utf8"));
  } catch (e) {
    throw new Error(`error: evaluating nixosConfigurations.${hostName}: cannot read ${p}: ${e.message}`);
  }
  if (!data?.ssh || !Array.isArray(data.ssh.authorizedKeys)) throw new Error(`error: ${p}: ssh.authorizedKeys missing`);
  return data;
}

export function renderInstalledFiles(host) {
  const release = String(host.stateVersion ?? "25.11");
  const code = { 25.05: "warbler", 25.11: "xantusia", 26.05: "yarara" }[release] ?? "unknown";
  return {
    "etc/os-release": `ANSI_COLOR="0;38;2;126;186;228"\nBUILD_ID="${release}.20260101.abcdef0"\nDOCUMENTATION_URL="https://nixos.org/learn.html"\nHOME_URL="https://nixos.org/"\nID=nixos\nNAME=NixOS\nPRETTY_NAME="NixOS ${release} (${code})"\nVERSION="${release} (${code})"\nVERSION_CODENAME=${code}\nVERSION_ID="${release}"\n`,
    "etc/hostname": `${host.hostname}\n`,
    "root/.ssh/authorized_keys": host.ssh.authorizedKeys.map((k) => k.trim()).join("\n") + "\n",
    "etc/nixnode-installed-host.json": JSON.stringify(host, null, 2) + "\n",
  };
}

export function writeInstalledFiles(mnt, host) {
  for (const [rel, text] of Object.entries(renderInstalledFiles(host))) {
    const p = join(mnt, rel);
    mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
    writeFileSync(p, text, { mode: rel.startsWith("root/.ssh") ? 0o600 : 0o644 });
  }
}
