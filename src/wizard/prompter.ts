// The wizard asks through the one Prompter that main.ts creates (src/ui/prompter.ts) and hands
// down in CommandContext; scripted answers stand in for it in unit tests.
export type { Choice, Prompter } from "../ui/prompter";
