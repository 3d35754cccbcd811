// The order OpenSSH logs in with: learn the offered methods with a 'none' request (no failure is
// counted), then the agent, key files, and last a password (as "password" or answered through
// "keyboard-interactive"). Nothing is prompted for a method the server does not offer.
import type { AuthenticationType, ConnectConfig } from "ssh2";
import { loadIdentity } from "./identity";
import type { AuthTrace } from "./ssh-errors";
import type { ConnectOptions } from "./ssh-target";

const MAX_PASSWORD_PROMPTS = 3;

type Attempt = Record<string, unknown> & { type: string };
interface Step {
  /** the methods (as the server names them) this step can use; the first offered one is used */
  methods: AuthenticationType[];
  make(method: AuthenticationType): Promise<Attempt | null>;
}

export function makeAuthHandler(
  opts: ConnectOptions,
  user: string,
  trace: AuthTrace,
  pause: <T>(p: Promise<T>) => Promise<T>,
  succeededWith: (m: string) => void,
): ConnectConfig["authHandler"] {
  const steps: Step[] = [];
  if (opts.agentSocket)
    steps.push({
      methods: ["publickey"],
      make: async () => ({ type: "agent", username: user, agent: opts.agentSocket }),
    });
  for (const file of opts.identityFiles ?? []) {
    steps.push({
      methods: ["publickey"],
      make: async () => {
        const key = await loadIdentity(file, opts.askPassphrase ? (f) => pause(opts.askPassphrase!(f)) : undefined);
        if (!key) return null;
        opts.log?.write(`ssh: trying key ${file}`);
        return { type: "publickey", username: user, key: key.data, passphrase: key.passphrase };
      },
    });
  }
  let password: string | undefined = opts.password;
  let passwordPrompts = 0;
  const passwordStep: Step = {
    methods: ["password", "keyboard-interactive"],
    make: async (method) => {
      if (password === undefined && opts.askPassword) {
        passwordPrompts++;
        password = await pause(opts.askPassword());
      }
      if (password === undefined || password === "") return null;
      opts.log?.addSecret(password);
      trace.passwordTried = true;
      if (method === "password") return { type: "password", username: user, password };
      const answer = password;
      return {
        type: "keyboard-interactive",
        username: user,
        // answer password prompts only; anything else (a one-time code) gets an empty answer and fails
        prompt: (
          _n: string,
          _i: string,
          _l: string,
          prompts: Array<{ prompt: string }>,
          finish: (a: string[]) => void,
        ) => finish(prompts.map((p) => (/pass(word|phrase)?/i.test(p.prompt) ? answer : ""))),
      };
    },
  };
  steps.push(passwordStep);
  trace.hadCredentials = Boolean(opts.agentSocket || opts.identityFiles?.length || opts.password || opts.askPassword);

  let i = 0;
  let last = "";
  let askedNone = false;
  const handler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (a: unknown) => void) => {
    if (methodsLeft) trace.offered = methodsLeft;
    if (last) trace.tried.push(last);
    // a typed password that failed: ask again, as ssh does (3 tries in all)
    if (
      (last === "password" || last === "keyboard-interactive") &&
      opts.password === undefined &&
      passwordPrompts > 0 &&
      passwordPrompts < MAX_PASSWORD_PROMPTS
    ) {
      password = undefined;
      i = steps.indexOf(passwordStep);
    }
    if (!askedNone) {
      askedNone = true;
      return next({ type: "none", username: user });
    }
    (async (): Promise<Attempt | false> => {
      while (i < steps.length) {
        const step = steps[i++]!;
        const method = methodsLeft ? step.methods.find((m) => methodsLeft.includes(m)) : step.methods[0];
        if (!method) continue;
        const a = await step.make(method);
        if (!a) continue;
        last = a.type;
        succeededWith(a.type);
        return a;
      }
      return false;
    })().then(next, (e: Error) => {
      trace.error = e;
      next(false);
    });
  };
  return handler as unknown as ConnectConfig["authHandler"];
}
