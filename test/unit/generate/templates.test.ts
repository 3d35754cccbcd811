// The template files are real Nix on their own, and the placeholder scheme cannot drift from them:
// a placeholder without a value, or a value without a placeholder, is a bug caught at render time.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InternalError } from "../../../src/errors";
import { fillTemplate, nixStr } from "../../../src/generate/fill-template";
import { NIX_INSTANTIATE, NO_NIX_REASON, evalModule, parseNixFiles } from "../plan/nix-eval";

const TEMPLATES = fileURLToPath(new URL("../../../flake-templates/", import.meta.url));

function nixFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? nixFiles(join(dir, e.name)) : e.name.endsWith(".nix") ? [join(dir, e.name)] : [],
  );
}

describe("flake-templates", () => {
  it.skipIf(!NIX_INSTANTIATE)(
    `every template parses as it is, placeholders included${NIX_INSTANTIATE ? "" : ` (skipped: ${NO_NIX_REASON})`}`,
    () => {
      const files = nixFiles(TEMPLATES);
      expect(files.length).toBeGreaterThanOrEqual(8);
      expect(parseNixFiles(files)).toEqual([]);
    },
  );

  it.skipIf(!NIX_INSTANTIATE)("the parse check names a file that does not parse, among good ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "nixnode-parse-"));
    writeFileSync(join(dir, "bad.nix"), "{ x = ; }\n");
    const files = [...nixFiles(TEMPLATES), join(dir, "bad.nix")];
    expect(parseNixFiles(files).map((f) => f.file)).toEqual([join(dir, "bad.nix")]);
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!NIX_INSTANTIATE)(
    "the peer-observer profile keeps WireGuard off until it is configured, and says so",
    () => {
      const mod = join(TEMPLATES, "peer-observer/profile.nix");
      expect(evalModule(mod, {}, "warnings")).toEqual([expect.stringMatching(/WireGuard link is off/)]);
      expect(evalModule(mod, {}, "services.nats")).toEqual({ enable: true, host: "127.0.0.1", port: 4222 });
    },
  );
});

describe("fillTemplate", () => {
  it("fills inline values and whole-line blocks at the line's indentation", () => {
    const t = 'x = "@name@";\n  # @lines@\ny = 1;\n';
    expect(fillTemplate(t, "t", { name: "node1", lines: ["a = 1;", "b = 2;"] })).toBe(
      'x = "node1";\n  a = 1;\n  b = 2;\ny = 1;\n',
    );
    expect(fillTemplate(t, "t", { name: "n", lines: [] })).toBe('x = "n";\ny = 1;\n');
  });

  it("refuses a missing value and an unused one", () => {
    expect(() => fillTemplate("@a@ @b@", "t", { a: "1" })).toThrow(InternalError);
    expect(() => fillTemplate("@a@", "t", { a: "1", c: "2" })).toThrow(/does not have: c/);
    expect(() => fillTemplate("x @a@", "t", { a: ["block"] })).toThrow(/inline/);
  });

  it("nixStr escapes what would end or splice a Nix string", () => {
    expect(nixStr('a"b\\c${d}')).toBe('"a\\"b\\\\c\\${d}"');
  });
});
