// Loads agenix in a rendered flake.nix: the agenix input, its NixOS module, and secrets/module.nix
// (which declares every secrets/*.age to agenix) once `nixnode-install secrets` has written it.
// Applied to every profile's flake. Text insertion at anchors
// of the templates in flake-templates/; a template that lost an anchor fails loudly here.
import { InternalError } from "../errors";

/** ryantm/agenix's newest commit (2026-02-04, "fix: enable running rekey in a non-interactive shell"). */
export const AGENIX_REV = "b027ee29d959fda4b60b57566d64c98a202e0feb";

// agenix's flake also has darwin, home-manager and systems inputs. Its NixOS module needs none of
// them (darwin and home-manager serve only its own macOS checks), so, as agenix's README suggests
// for darwin, they are not fetched at all (`follows = ""`); nixpkgs is the node's own.
const INPUT = [
  "    # age-encrypted secrets (secrets/*.age), decrypted on the node at boot with its host key",
  "    agenix = {",
  `      url = "github:ryantm/agenix/${AGENIX_REV}";`,
  '      inputs.nixpkgs.follows = "nixpkgs";',
  '      inputs.darwin.follows = "";',
  '      inputs.home-manager.follows = "";',
  "    };",
];

const STEPS: Array<{ what: string; anchor: RegExp; edit: (match: string, indent: string) => string }> = [
  { what: "the end of inputs", anchor: /^( {2})\};\n\n {2}outputs =/m, edit: (m) => `${INPUT.join("\n")}\n${m}` },
  {
    what: "the outputs arguments",
    anchor: /\{ nixpkgs, disko, \.\.\. \}@inputs:/,
    edit: () => "{ nixpkgs, disko, agenix, ... }@inputs:",
  },
  {
    what: "the disko module line",
    anchor: /^( *)disko\.nixosModules\.disko\n/m,
    edit: (m, indent) =>
      `${m}${indent}agenix.nixosModules.default\n${indent}# secrets/*.age as age.secrets.<name>, once \`nixnode-install secrets\` has written secrets/module.nix\n${indent}(if builtins.pathExists ./secrets/module.nix then ./secrets/module.nix else { })\n`,
  },
];

export function withAgenix(flakeNix: string, file: string): string {
  let out = flakeNix;
  for (const step of STEPS) {
    if (!step.anchor.test(out))
      throw new InternalError(`${file}: cannot wire agenix in: ${step.what} is not where expected`);
    out = out.replace(step.anchor, (m: string, indent?: string) =>
      step.edit(m, typeof indent === "string" ? indent : ""),
    );
  }
  return out;
}
