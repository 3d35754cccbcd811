// Loads agenix in a rendered flake.nix: the agenix input, its NixOS module, and secrets/module.nix
// (which declares every secrets/*.age to agenix) once `nixnode-install secrets` has written it.
// Applied to every profile's flake. Text insertion at anchors
// of the templates in flake-templates/; a template that lost an anchor fails loudly here.
import { InternalError } from "../errors";

const INPUT = [
  "    # age-encrypted secrets (secrets/*.age), decrypted on the node at boot with its host key",
  "    agenix = {",
  '      url = "github:ryantm/agenix";',
  '      inputs.nixpkgs.follows = "nixpkgs";',
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
