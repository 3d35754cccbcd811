// TEST-ONLY stand-in for `nix` inside the NixOS installer of a throwaway target. It supports exactly
// what the built-in engine and `check` run (see README.md in this folder):
//   nix eval --raw <flake>#nixosConfigurations."<host>".config.system.build.toplevel.drvPath
//   nix build --no-link --print-out-paths <flake>#nixosConfigurations."<host>".config.system.build.diskoScript
// Evaluation fails as Nix does for a flake with a misspelt services.openssh option (checked against
// the openssh module's real top-level option names), naming the option and the file. The disko script
// "formats" the disks: it overwrites the target's stand-in disk image and marks /mnt formatted.
// Every invocation is appended to /root/.nixnode-standin-installer.log (the target's private /root), or
// to $NIXNODE_STANDIN_NIX_LOG when set (the operator-side copy, operator-bin/nix).
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { join, relative } from "node:path";

const args = process.argv.slice(2);
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--extra-experimental-features" || args[i] === "--option") {
    i += args[i] === "--option" ? 2 : 1;
    continue;
  }
  rest.push(args[i]);
}
const [verb, ...more] = rest;
const ref = more.find((a) => !a.startsWith("-"));
const m =
  /^(.+)#nixosConfigurations\."?([A-Za-z0-9-]+)"?\.config\.system\.build\.(diskoScript|toplevel\.drvPath)$/.exec(
    ref ?? "",
  );
const kind = m?.[3] === "diskoScript" ? "disko-script" : "eval";
const ok =
  m &&
  ((verb === "build" && kind === "disko-script" && more.includes("--print-out-paths")) ||
    (verb === "eval" && kind === "eval" && more.includes("--raw")));
try {
  appendFileSync(
    process.env.NIXNODE_STANDIN_NIX_LOG || "/root/.nixnode-standin-installer.log",
    `nix ${ok ? kind : "unsupported"} ${ref ?? ""}\n`,
  );
} catch {
  // no /root to log into (a unit test running this directly): the log is only for tests to read
}
if (!ok) {
  process.stderr.write(`nix (stand-in): unsupported invocation: ${args.join(" ")}\n`);
  process.exit(1);
}
const [, flake, host] = m;
if (!existsSync(join(flake, "flake.nix"))) {
  process.stderr.write(`error: path '${flake}/flake.nix' does not exist\n`);
  process.exit(1);
}
if (!existsSync(join(flake, "hosts", host))) {
  process.stderr.write(
    `error: flake 'path:${flake}' does not provide attribute 'nixosConfigurations.${host}.config.system.build.toplevel'\n`,
  );
  process.exit(1);
}

// services.openssh's top-level options in NixOS (nixos/modules/services/networking/ssh/sshd.nix)
const OPENSSH = new Set([
  "enable",
  "package",
  "startWhenNeeded",
  "allowSFTP",
  "sftpServerExecutable",
  "sftpFlags",
  "ports",
  "openFirewall",
  "listenAddresses",
  "generateHostKeys",
  "hostKeys",
  "banner",
  "authorizedKeysInHomedir",
  "authorizedKeysFiles",
  "authorizedKeysCommand",
  "authorizedKeysCommandUser",
  "settings",
  "extraConfig",
  "moduliFile",
]);

function nixFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.name === ".git"
      ? []
      : e.isDirectory()
        ? nixFiles(join(dir, e.name))
        : e.name.endsWith(".nix")
          ? [join(dir, e.name)]
          : [],
  );
}

/** Names assigned under services.openssh: `services.openssh.NAME = ...` and NAME inside `services.openssh = { ... };`. */
function opensshAssignments(text) {
  const found = [];
  const code = text.replace(/#.*$/gm, "");
  for (const a of code.matchAll(/services\.openssh\.([A-Za-z_][\w-]*)/g)) found.push(a[1]);
  for (const block of code.matchAll(/services\.openssh\s*=\s*(?:lib\.mk\w+\s*(?:\d+\s*)?)?\{/g)) {
    let depth = 1;
    let line = "";
    for (let i = block.index + block[0].length; i < code.length && depth > 0; i++) {
      const c = code[i];
      if (c === "{" || c === "[" || c === "(") depth++;
      else if (c === "}" || c === "]" || c === ")") depth--;
      else if (depth === 1) {
        if (c === ";") line = "";
        else {
          line += c;
          const n = /^\s*([A-Za-z_][\w-]*)(?:\.[\w.-]+)?\s*=$/.exec(line);
          if (n) found.push(n[1]);
        }
      }
    }
  }
  return found;
}

const hash = createHash("sha256").update(flake).digest("hex").slice(0, 32);
for (const file of nixFiles(flake)) {
  const bad = opensshAssignments(readFileSync(file, "utf8")).find((n) => !OPENSSH.has(n));
  if (bad) {
    process.stderr.write(
      `error:
       … while evaluating the attribute 'config.system.build.toplevel.drvPath'
         at /nix/store/${hash}-source/flake.nix
       … while evaluating the module argument \`config'

       error: The option \`services.openssh.${bad}' does not exist. Definition values:
       - In \`/nix/store/${hash}-source/${relative(flake, file)}'
`,
    );
    process.exit(1);
  }
}

if (kind === "eval") {
  process.stdout.write(`/nix/store/${hash}-nixos-system-${host}.drv`);
  process.exit(0);
}
if (!existsSync(join(flake, "hosts", host, "disk-config.nix"))) {
  process.stderr.write(`error: flake '${flake}' has no disk layout for ${host}\n`);
  process.exit(1);
}
const dir = "/run/nixnode-standin";
mkdirSync(dir, { recursive: true });
const script = join(dir, `disko-${host}`);
const tables = partitionTables(join(flake, "hosts", host, "disk-config.nix"));
writeFileSync(
  script,
  `#!/bin/sh
# stand-in disko script: formats the disks and mounts /mnt
set -e
[ -f /mnt/.nixnode-standin-mnt ] || { echo 'disko: /mnt is not the installer mount' >&2; exit 1; }
echo disko >> /root/.nixnode-standin-installer.log
${
  tables.length
    ? tables.join("\n")
    : `# no disk of the layout is one of this installer's disks: "format" the stand-in disk image
disk=
[ ! -f /root/.nixnode-standin-disk ] || read -r disk < /root/.nixnode-standin-disk || true
[ -z "$disk" ] || printf 'nixnode stand-in: formatted by disko\\n' > "$disk"`
}
date > /mnt/.nixnode-disko-done
echo 'disko: formatted and mounted at /mnt'
`,
);
chmodSync(script, 0o755);
process.stdout.write(`${script}\n`);

/**
 * The layout the flake really asks for (hosts/<host>/disk-config.nix evaluated by the real
 * nix-instantiate, as disko would), as sfdisk + mkfs commands for each of its disks that is one of
 * this installer's registered disks (disks.mjs); [] when none is (the stand-in disk image is used).
 */
function partitionTables(file) {
  const registry = "/root/.nixnode-standin-disks";
  if (!existsSync(registry) || !existsSync(file)) return [];
  const ours = new Set(JSON.parse(readFileSync(registry, "utf8")).map((d) => d.device));
  const r = spawnSync(
    "nix-instantiate",
    ["--eval", "--strict", "--json", "-E", `(import ${JSON.stringify(file)} { }).disko.devices.disk`],
    { encoding: "utf8" },
  );
  if (r.status !== 0) {
    process.stderr.write(`error: evaluating ${file} (stand-in: nix-instantiate): ${r.stderr}\n`);
    process.exit(1);
  }
  const GUID = {
    EF02: "21686148-6449-6E6F-744E-656564454649",
    EF00: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
    8200: "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
    8300: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
    FD00: "A19D880F-05FC-4D3B-A006-743F0F84911E",
    BF00: "6A898CC3-1DD2-11B2-99A6-080020736631",
  };
  const out = [];
  for (const [diskName, d] of Object.entries(JSON.parse(r.stdout))) {
    let device = d.device;
    try {
      device = realpathSync(d.device); // the plan names /dev/disk/by-id/...: the disk it resolves to
    } catch {
      // not here at all: not one of ours
    }
    if (!ours.has(device) || d.content?.type !== "gpt") continue;
    const parts = Object.entries(d.content.partitions).sort(
      ([, a], [, b]) => (a.priority ?? 1000) - (b.priority ?? 1000),
    );
    const rows = parts.map(([name, p]) => {
      const type = GUID[p.type ?? (p.content?.type === "swap" ? "8200" : "8300")] ?? GUID[8300];
      const size = /^\d+[KMGT]$/.test(p.size ?? "") ? `size=${p.size}iB, ` : "";
      return `${size}type=${type}, name="disk-${diskName}-${name}"`;
    });
    const q = (v) => `'${String(v).replace(/'/g, "'\\''")}'`;
    out.push(`printf '%s\\n' 'label: gpt' ${rows.map(q).join(" ")} | sfdisk -q ${q(device)}`);
    out.push(`partx -u ${q(device)} 2>/dev/null || true`);
    parts.forEach(([, p], i) => {
      const dev = q(`${device}p${i + 1}`);
      if (p.content?.type === "swap") out.push(`mkswap -q ${dev} >/dev/null`);
      else if (p.content?.format === "ext4") out.push(`mkfs.ext4 -q -F ${dev}`);
      else if (p.content?.format === "vfat")
        out.push(`if command -v mkfs.vfat >/dev/null; then mkfs.vfat ${dev} >/dev/null; fi`);
    });
  }
  return out;
}
