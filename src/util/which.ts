// The ONE PATH lookup: where an executable would be found, as a shell's `command -v` would say, or
// null. A name with a slash is taken as a path (the local installer's absolute tool paths).
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

function runnable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function which(name: string, env: NodeJS.ProcessEnv): string | null {
  if (name.includes("/")) return runnable(name) ? name : null;
  for (const dir of (env.PATH ?? "").split(delimiter)) if (dir && runnable(join(dir, name))) return join(dir, name);
  return null;
}
