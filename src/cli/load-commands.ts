// Loads the command graph. In the published bundle, scripts/build.mjs replaces this module with one
// that compiles the commands from a string kept inside the same file, only when a command runs.
export async function loadCommands(): Promise<typeof import("./commands/index").commands> {
  return (await import("./commands/index")).commands;
}
