// TEST-ONLY stand-in for `nix` inside the NixOS installer of a throwaway target: supports exactly
// what the built-in engine runs — `nix build --no-link --print-out-paths <flake>#nixosConfigurations."<host>".config.system.build.diskoScript`
// — and prints the path of a "disko script" that marks the disks as formatted. Anything else fails.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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
const m = /^(.+)#nixosConfigurations\."?([A-Za-z0-9-]+)"?\.config\.system\.build\.diskoScript$/.exec(ref ?? "");
if (verb !== "build" || !more.includes("--print-out-paths") || !m) {
  process.stderr.write(`nix (stand-in): unsupported invocation: ${args.join(" ")}\n`);
  process.exit(1);
}
const [, flake, host] = m;
if (!existsSync(join(flake, "flake.nix"))) {
  process.stderr.write(`error: path '${flake}/flake.nix' does not exist\n`);
  process.exit(1);
}
if (!existsSync(join(flake, "hosts", host, "disk-config.nix"))) {
  process.stderr.write(`error: flake '${flake}' has no disk layout for ${host}\n`);
  process.exit(1);
}
const dir = "/run/nixnode-standin";
mkdirSync(dir, { recursive: true });
const script = join(dir, `disko-${host}`);
writeFileSync(
  script,
  "#!/bin/sh\n# stand-in disko script: 'formats' the disks\nset -e\n[ -f /mnt/.nixnode-standin-mnt ] || { echo 'disko: /mnt is not the installer mount' >&2; exit 1; }\ndate > /mnt/.nixnode-disko-done\necho 'disko: formatted and mounted at /mnt'\n",
);
chmodSync(script, 0o755);
process.stdout.write(`${script}\n`);
