// The generated flake loads agenix for profiles that read secrets: the wired flake.nix parses, and
// evaluating its outputs (with stand-in inputs, no network) gives the node the agenix module, and
// secrets/module.nix exactly when the flake has one.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import baseFlake from "../../../flake-templates/base/flake.nix?raw";
import nixBitcoinFlake from "../../../flake-templates/nix-bitcoin/flake.nix?raw";
import peerObserverFlake from "../../../flake-templates/peer-observer/flake.nix?raw";
import { AGENIX_REV, withAgenix } from "../../../src/generate/agenix-wiring";
import { fillTemplate } from "../../../src/generate/fill-template";
import { SECRETS_MODULE_NIX } from "../../../src/secrets/agenix";
import { has, scratch } from "./tools";

const HAVE_NIX = has("nix-instantiate");
const TEMPLATES = { base: baseFlake, "nix-bitcoin": nixBitcoinFlake, "peer-observer": peerObserverFlake } as const;

function nixEval(expr: string): unknown {
  const r = spawnSync("nix-instantiate", ["--eval", "--strict", "--json", "-E", expr]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return JSON.parse(r.stdout.toString());
}

describe.skipIf(!HAVE_NIX)("agenix wired into the generated flake.nix (nix-instantiate)", () => {
  const s = scratch();
  afterAll(() => s.remove());

  for (const [profile, tpl] of Object.entries(TEMPLATES)) {
    it(`${profile}: parses, declares the agenix input, and its outputs load the agenix module`, () => {
      const dir = s.path(profile);
      mkdirSync(join(dir, "hosts/n1"), { recursive: true });
      const values: Record<string, string> =
        profile === "nix-bitcoin" ? { hostname: "n1", rebuild: "r" } : { hostname: "n1", rebuild: "r", nixos: "26.05" };
      writeFileSync(
        join(dir, "flake.nix"),
        withAgenix(fillTemplate(tpl, `${profile}/flake.nix`, values), `${profile}/flake.nix`),
      );
      expect(spawnSync("nix-instantiate", ["--parse", join(dir, "flake.nix")]).status).toBe(0);
      const flake = `(import ${join(dir, "flake.nix")})`;
      expect(nixEval(`${flake}.inputs.agenix.url`)).toBe(`github:ryantm/agenix/${AGENIX_REV}`);
      const modules = () =>
        nixEval(
          `let out = ${flake}.outputs { self = { }; nixpkgs = { lib.nixosSystem = a: a; }; disko.nixosModules.disko = "disko"; agenix.nixosModules.default = "agenix"; nix-bitcoin = { }; peer-observer-infra-library.lib = system: { mkModules = extra: extra; mkNodeConfig = name: node: infra: { node = name; }; }; };
           in map (m: if builtins.isString m then m else if builtins.isPath m then baseNameOf m else if m == { } then "empty" else "module") out.nixosConfigurations.n1.modules`,
        ) as string[];
      expect(modules()).toEqual(expect.arrayContaining(["disko", "agenix", "empty"]));
      mkdirSync(join(dir, "secrets"), { recursive: true });
      writeFileSync(join(dir, "secrets/module.nix"), SECRETS_MODULE_NIX);
      expect(modules()).toEqual(expect.arrayContaining(["disko", "agenix", "module.nix"]));
      expect(modules()).not.toContain("empty");
    });
  }

  it("a template without the expected anchors fails loudly instead of producing a flake without secrets", () => {
    expect(() => withAgenix("{ outputs = _: { }; }", "x/flake.nix")).toThrow(/x\/flake.nix: cannot wire agenix in/);
  });
});
