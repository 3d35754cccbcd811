// Bundled example machines for `plan --example NAME`: Facts built from real captures in
// shared/corpus by scripts/make-examples.mjs (recipe and provenance: example-sources.ts). Each
// call returns a fresh, validated copy, so a caller may edit it freely.
import { UserError } from "../errors";
import hetznerCloud from "./examples/hetzner-cloud.json";
import hetznerDedicated from "./examples/hetzner-dedicated.json";
import latitudeBaremetal from "./examples/latitude-baremetal.json";
import netcupVps from "./examples/netcup-vps.json";
import oracleMicro1gb from "./examples/oracle-micro-1gb.json";
import proxmox2disks from "./examples/proxmox-2disks.json";
import type { Facts } from "./types";
import { validateFacts } from "./validate";

export interface Example {
  description: string;
  facts: () => Facts;
}

/** The first warning of every example file is "example machine: <description>". */
function example(json: { warnings: string[] }): Example {
  const description = (json.warnings[0] ?? "").replace(/^example machine: /, "");
  return { description, facts: () => validateFacts(structuredClone(json)) };
}

export const EXAMPLES: Record<string, Example> = {
  "hetzner-cloud": example(hetznerCloud),
  "hetzner-dedicated": example(hetznerDedicated),
  "netcup-vps": example(netcupVps),
  "proxmox-2disks": example(proxmox2disks),
  "oracle-micro-1gb": example(oracleMicro1gb),
  "latitude-baremetal": example(latitudeBaremetal),
};

export function loadExample(name: string, field = "--example"): Facts {
  const ex = Object.hasOwn(EXAMPLES, name) ? EXAMPLES[name] : undefined;
  if (!ex) {
    const names = Object.keys(EXAMPLES);
    throw new UserError(`${field}: "${name}" is not a bundled example machine`, {
      field,
      hint: `use one of: ${names.join(", ")}`,
      details: names.map((n) => `${n}: ${EXAMPLES[n]!.description}`),
    });
  }
  return ex.facts();
}
