// Loads the command graph. The dynamic import is where the published build splits: scripts/build.mjs
// puts everything behind it in its own chunk, which --help and --version never load.
export async function loadCommands(): Promise<typeof import("./commands/index").commands> {
  return (await import("./commands/index")).commands;
}
