// Builds the bundle once so that CLI tests run exactly what users run (dist/nixnode-install.mjs).
import { execFileSync } from "node:child_process";

export default function setup() {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
