// What a node's profile adds to the fleet flake: nix-bitcoin and peer-observer nodes use the SAME
// pinned inputs and profile modules as a single node of that profile (read from the single-node
// templates, so the two can never pin different revisions), and each peer-observer node gets its
// entry in infra-library's `infra.nodes` (an id kept once given, infra-library's WireGuard address
// convention 10.21.0.<id>, and the wg-peerobserver key infra-library reads).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import nixBitcoinFlake from "../../flake-templates/nix-bitcoin/flake.nix?raw";
import peerObserverFlake from "../../flake-templates/peer-observer/flake.nix?raw";
import { UserError, badField } from "../errors";
import { ageEncrypt, parseRecipient } from "../secrets/age";
import { generateSecret } from "../secrets/generate-secret";
import type { PendingFile } from "./fleet-keys";

function pinnedUrl(template: string, repo: string): string {
  const m = new RegExp(`"(github:${repo}/[0-9a-f]{40})"`).exec(template);
  if (!m) throw new Error(`the single-node template no longer pins ${repo}`);
  return m[1]!;
}

/** flake.nix input lines for the profiles the fleet's nodes use (none for a base-only fleet). */
export function profileInputs(profiles: Set<string>): string[] {
  const lines: string[] = [];
  if (profiles.has("peer-observer"))
    lines.push(
      "# peer-observer nodes are built on infra-library, pinned as in a single peer-observer node's flake",
      "peer-observer-infra-library = {",
      `  url = "${pinnedUrl(peerObserverFlake, "peer-observer/infra-library")}";`,
      '  inputs.nixpkgs.follows = "nixpkgs";',
      "  # one agenix for the whole fleet (its module is then imported once per host)",
      '  inputs.agenix.follows = "agenix";',
      "};",
    );
  if (profiles.has("nix-bitcoin"))
    lines.push(
      "# nix-bitcoin nodes: pinned to its final commit (archived upstream in 2026), and built with the",
      "# nixpkgs nix-bitcoin was tested against, exactly as a single nix-bitcoin node (flake.nix: nixpkgsFor)",
      `nix-bitcoin.url = "${pinnedUrl(nixBitcoinFlake, "fort-nix/nix-bitcoin")}";`,
    );
  return lines;
}

/** infra-library ids for the peer-observer nodes (host order): a recorded id is kept, new ones take the lowest free. */
export function assignPeerObserverIds(
  names: string[],
  recorded: Record<string, number | undefined>,
): Record<string, number> {
  const out: Record<string, number> = {};
  const taken = new Set<number>();
  for (const n of names) {
    const id = recorded[n];
    if (id !== undefined && Number.isInteger(id) && id >= 1 && id <= 254 && !taken.has(id)) {
      out[n] = id;
      taken.add(id);
    }
  }
  let next = 1;
  for (const n of names) {
    if (out[n] !== undefined) continue;
    while (taken.has(next)) next++;
    if (next > 254)
      throw badField(
        `hosts.${n}.profile`,
        "more than 254 peer-observer nodes",
        "infra-library numbers nodes 10.21.0.1-254",
      );
    out[n] = next;
    taken.add(next);
  }
  return out;
}

export const peerObserverKeyPaths = (name: string) => ({
  age: `secrets/${name}/wireguard-private-key-${name}.age`,
  pub: `keys/${name}/wireguard-private-key-${name}.pub`,
});

/**
 * The node's wg-peerobserver key (the file name infra-library's base.nix reads under the host's
 * agenixSecretsDir), encrypted to the node's host key and the operators; kept when it exists.
 */
export async function peerObserverKey(
  dir: string | null,
  name: string,
  recipients: string[],
): Promise<{ publicKey: string; writes: PendingFile[] }> {
  const p = peerObserverKeyPaths(name);
  const present = [p.age, p.pub].map((f) => (dir ? existsSync(join(dir, f)) : false));
  if (present[0] && present[1]) return { publicKey: readFileSync(join(dir!, p.pub), "utf8").trim(), writes: [] };
  if (present[0] || present[1]) {
    const [missing, other] = present[0] ? [p.pub, p.age] : [p.age, p.pub];
    throw new UserError(`hosts.${name}: ${missing} is missing but ${other} exists`, {
      field: `hosts.${name}`,
      hint: `restore ${missing} from git (git checkout -- ${missing}); to make a new peer-observer WireGuard key on purpose, remove ${other} too`,
    });
  }
  const wg = generateSecret("wireguard");
  const data = await ageEncrypt(
    wg.value,
    recipients.map((r, i) => parseRecipient(r, `recipient ${i + 1}`)),
    { armor: true },
  );
  wg.value.fill(0);
  return {
    publicKey: wg.publicKey!,
    writes: [
      { path: p.age, data },
      { path: p.pub, data: `${wg.publicKey}\n` },
    ],
  };
}
