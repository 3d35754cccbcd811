// The one way the tool asks the operator anything. main.ts creates it once (on the same stream as
// the Output) and hands it down in CommandContext; nothing else imports `prompts`. Cancelling any
// question (Ctrl-C, Esc) throws CancelledError: nothing has been done while a question is open.
// Without a terminal the prompter refuses to ask: scripted runs must never block on a question.
// `prompts` is imported on the first question only, so --help and --version never load it.
import type { PromptObject } from "prompts";
import { CancelledError, InternalError } from "../errors";

export interface Choice<T> {
  title: string;
  value: T;
  description?: string;
  selected?: boolean;
}

export interface Prompter {
  /** True when questions can be asked (a terminal, no --json). */
  readonly interactive: boolean;
  /** Free text; `validate` returns an error message to show (and ask again) or true. */
  text(q: { message: string; initial?: string; validate?: (v: string) => string | true }): Promise<string>;
  /** Hidden input (passwords, passphrases); "" when the operator just pressed Enter. */
  password(q: { message: string }): Promise<string>;
  /**
   * A yes/no question answered as ssh's host-key question is: the word typed out and Enter. A single
   * keypress never decides, so "y<Enter>" cannot leak its Enter into the next question. `alsoYes`
   * is another answer meaning yes (ssh accepts the fingerprint itself).
   */
  confirm(q: { message: string; alsoYes?: string }): Promise<boolean>;
  select<T>(q: { message: string; choices: Choice<T>[]; initial?: number; hint?: string }): Promise<T>;
  multiselect<T>(q: { message: string; choices: Choice<T>[]; min?: number; hint?: string }): Promise<T[]>;
}

/** "yes"/"no" (any case, surrounding spaces ignored); null for anything else, "y" included. */
export function parseYesNo(typed: string, alsoYes?: string): boolean | null {
  const t = typed.trim();
  if (/^yes$/i.test(t) || (alsoYes !== undefined && t === alsoYes)) return true;
  if (/^no$/i.test(t)) return false;
  return null;
}

export function createPrompter(io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream }): Prompter {
  const ask = async <T>(q: Omit<PromptObject, "name">): Promise<T> => {
    let cancelled = false;
    const prompts = (await import("prompts")).default;
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
    interactive: true,
    text: (q) =>
      ask<string>({
        type: "text",
        message: q.message,
        initial: q.initial,
        validate: q.validate ? (v: string) => q.validate!(String(v ?? "")) : undefined,
      }),
    password: async (q) => String((await ask<string | undefined>({ type: "password", message: q.message })) ?? ""),
    async confirm(q) {
      const typed = await ask<string>({
        type: "text",
        message: `${q.message} (yes/no)`,
        validate: (v: string) =>
          parseYesNo(String(v ?? ""), q.alsoYes) === null ? `Please type "yes" or "no" and press Enter` : true,
      });
      return parseYesNo(typed, q.alsoYes) === true;
    },
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

/** For runs without a terminal: asking is a bug (callers check `interactive` first), never a hang. */
export function noPrompter(): Prompter {
  const refuse = (message: string): never => {
    throw new InternalError(`a question was asked without a terminal: ${message}`);
  };
  return {
    interactive: false,
    text: async (q) => refuse(q.message),
    password: async (q) => refuse(q.message),
    confirm: async (q) => refuse(q.message),
    select: async (q) => refuse(q.message),
    multiselect: async (q) => refuse(q.message),
  };
}
