// Splits the probe's output into its named sections (format: see probe.sh). Pure.
import { OperationError } from "../errors";
import { PROBE_HEADER } from "./probe-script";

export interface ProbeSections {
  /** Raw text per section name, without the delimiter lines. */
  sections: Map<string, string>;
  /** The probe reached its last line (an interrupted probe still yields what it gathered). */
  complete: boolean;
}

export function parseSections(text: string): ProbeSections {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === PROBE_HEADER);
  if (start < 0) {
    const seen = text.trim().split("\n").slice(0, 3).join(" | ").slice(0, 200);
    throw new OperationError("the target's answer to the probe is not a nixnode probe report", {
      details: [`first output lines: ${seen || "(nothing)"}`],
      hint: "the login shell may print banners on stdout or sh may be missing; run `sh -s < probe.sh` on the target to see",
    });
  }
  const sections = new Map<string, string>();
  let name: string | null = null;
  let body: string[] = [];
  let complete = false;
  for (const line of lines.slice(start + 1)) {
    const m = /^@@section (\S+)$/.exec(line);
    if (m) {
      name = m[1]!;
      body = [];
    } else if (line === "@@end" && name) {
      sections.set(name, body.join("\n"));
      name = null;
    } else if (line === "@@done") {
      complete = true;
    } else if (name) {
      body.push(line);
    }
  }
  if (name) sections.set(name, body.join("\n"));
  return { sections, complete };
}

/** `key=value` lines of a section as a map (the probe writes its scalar facts that way). */
export function keyValues(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (text ?? "").split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}
