// The wizard asks through a Prompter, so that the questions can run against the real terminal
// (prompts) or against scripted answers in unit tests. Cancelling any question (Ctrl-C, Esc)
// throws CancelledError: nothing has been done to the target while questions are being asked.
import prompts from "prompts";
import { CancelledError } from "../errors";

export interface Choice<T> {
  title: string;
  value: T;
  description?: string;
  selected?: boolean;
}

export interface Prompter {
  /** Free text; `validate` returns an error message to show (and ask again) or true. */
  text(q: { message: string; initial?: string; validate?: (v: string) => string | true }): Promise<string>;
  select<T>(q: { message: string; choices: Choice<T>[]; initial?: number; hint?: string }): Promise<T>;
  multiselect<T>(q: { message: string; choices: Choice<T>[]; min?: number; hint?: string }): Promise<T[]>;
}

export function createPrompter(io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream }): Prompter {
  const ask = async <T>(q: Omit<prompts.PromptObject, "name">): Promise<T> => {
    let cancelled = false;
    const answers = await prompts(
      { ...q, name: "answer", stdin: io.stdin as never, stdout: io.stdout as never },
      {
        onCancel: () => {
          cancelled = true;
          return false;
        },
      },
    );
    if (cancelled || !("answer" in answers))
      throw new CancelledError("Cancelled at a question. Nothing was changed on the target.");
    return answers.answer as T;
  };
  return {
    text: (q) =>
      ask<string>({
        type: "text",
        message: q.message,
        initial: q.initial,
        validate: q.validate ? (v: string) => q.validate!(String(v ?? "")) : undefined,
      }),
    select: <T>(q: { message: string; choices: Choice<T>[]; initial?: number; hint?: string }) =>
      ask<T>({ type: "select", message: q.message, choices: q.choices, initial: q.initial ?? 0, hint: q.hint }),
    multiselect: <T>(q: { message: string; choices: Choice<T>[]; min?: number; hint?: string }) =>
      ask<T[]>({
        type: "multiselect",
        message: q.message,
        choices: q.choices,
        min: q.min,
        hint: q.hint ?? "space to toggle, enter to confirm",
        instructions: false,
      }),
  };
}
