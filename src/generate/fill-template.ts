// The one placeholder scheme for flake-templates/: the templates are real Nix (they parse on their
// own), so placeholders live where Nix allows any text — `@name@` inside a string or a comment, and
// a whole line `# @name@` that becomes a block of lines at that line's indentation. Every
// placeholder must be filled and every value used, so a template and its renderer cannot drift.
import { InternalError } from "../errors";

export type TemplateValues = Record<string, string | string[]>;

export function fillTemplate(template: string, file: string, values: TemplateValues): string {
  const used = new Set<string>();
  const lookup = (name: string): string | string[] => {
    const v = values[name];
    if (v === undefined) throw new InternalError(`${file}: no value for the placeholder @${name}@`);
    used.add(name);
    return v;
  };
  const out = template
    // a placeholder alone on a line (as a Nix comment, or a bare Markdown line): a block of lines
    .replace(/^([ \t]*)(?:# )?@([a-zA-Z]+)@[ \t]*\n/gm, (_, indent: string, name: string) => {
      const v = lookup(name);
      const lines = Array.isArray(v) ? v : [v];
      return lines.map((l) => (l === "" ? "\n" : `${indent}${l}\n`)).join("");
    })
    .replace(/@([a-zA-Z]+)@/g, (_, name: string) => {
      const v = lookup(name);
      if (Array.isArray(v)) throw new InternalError(`${file}: @${name}@ is used inline but its value is a block`);
      return v;
    });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length)
    throw new InternalError(`${file}: values given for placeholders it does not have: ${unused.join(", ")}`);
  // an empty block leaves its blank neighbours behind: keep at most one blank line
  return out.replace(/\n{3,}/g, "\n\n");
}

/** A Nix string literal for any text (escapes ", \ and ${). */
export function nixStr(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$\{/g, "\\${").replace(/\n/g, "\\n")}"`;
}
