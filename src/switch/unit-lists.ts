// The services a system starts at boot, read from the two toplevels on the target: the units
// multi-user.target wants in $toplevel/etc/systemd/system (what switch-to-configuration compares
// between the old and the new system). The test NixOS personality writes the same folder into its
// toplevels. Pure builder and parser.
import { shellQuote } from "../util/shell-quote";

const WANTS = "etc/systemd/system/multi-user.target.wants";

/** Prints "old=UNIT" for /run/current-system and "new=UNIT" for `newToplevel`; "<side>-missing" without the folder. */
export function unitListsCommand(newToplevel: string): string {
  const list = (side: string, top: string) =>
    `if [ -d ${top}/${WANTS} ]; then for u in ${top}/${WANTS}/*.service; do [ -e "$u" ] || [ -L "$u" ] || continue; echo "${side}=$(basename "$u")"; done; else echo ${side}-missing; fi`;
  return [list("old", "/run/current-system"), list("new", shellQuote(newToplevel))].join("\n");
}

/** null for a side whose system has no unit folder (then the summary says it is not known). */
export function parseUnitLists(text: string): { before: string[] | null; after: string[] | null } {
  const lines = text.split("\n").map((l) => l.trim());
  const side = (name: string) =>
    lines.includes(`${name}-missing`)
      ? null
      : lines
          .filter((l) => l.startsWith(`${name}=`))
          .map((l) => l.slice(name.length + 1))
          .sort();
  return { before: side("old"), after: side("new") };
}
