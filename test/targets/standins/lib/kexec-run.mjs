// TEST-ONLY: what the fake kexec tarball's kexec/run does on a throwaway target — the machine goes
// down and comes back as the NixOS installer (same host key, new boot_id, sessions dropped).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { becomeInstaller, rebootSoon } from "./target-effects.mjs";

const dir = process.argv[2];
const t = { ...JSON.parse(readFileSync(join(dir, "target.json"), "utf8")), dir };
process.stdout.write("+ kexec --load ./bzImage --initrd=./initrd\nmachine will boot into nixos in 1s...\n");
becomeInstaller(t);
rebootSoon(t, 1);
