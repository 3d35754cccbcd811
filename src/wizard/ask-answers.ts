// The wizard: every question, asked before anything runs, and only for what neither the facts nor
// the operator's config already answer. Defaults come from the facts. It returns answers and does
// nothing else; non-interactive runs never prompt and get H2's resolveConfig errors instead.
import type { Facts } from "../facts/types";
import { parseConfig, parseHostname, parseIgnoreIP, type PartialConfig } from "../plan/config";
import { defaultsFromFacts, resolveConfig } from "../plan/defaults";
import { PROFILES, type NodeConfig, type Profile } from "../plan/types";
import { lockdownPort } from "../util/fields";
import { askDisks } from "./ask-disks";
import type { Prompter } from "./prompter";
import { validateWith } from "./validate-answer";

export interface AskContext {
  facts: Facts;
  /** Answers from --config and flags: never asked again. */
  partial: PartialConfig;
  prompter: Prompter;
  interactive: boolean;
  /** Public keys found on the operator's side (ssh-agent, ~/.ssh/*.pub), offered for the new system. */
  keysFound: string[];
  /** Receives what was chosen without asking (shown to the operator with the plan). */
  notes?: string[];
}

const PROFILE_TEXT: Record<Profile, string> = {
  base: "a locked-down NixOS server, nothing else",
  "nix-bitcoin": "bitcoind + Core Lightning, nix-bitcoin style",
  "peer-observer": "bitcoind with tracepoints, NATS and a WireGuard link (peer-observer honeynode)",
};

export async function askAnswers(ctx: AskContext): Promise<NodeConfig> {
  const { facts, prompter } = ctx;
  if (!ctx.interactive) return resolveConfig(ctx.partial, facts, { interactive: false }, ctx.notes);
  const d = defaultsFromFacts(facts) as NodeConfig;
  const a: PartialConfig = structuredClone(ctx.partial);

  if (a.hostname === undefined) {
    a.hostname = await prompter.text({
      message: "Host name of the new system",
      initial: d.hostname,
      validate: validateWith((v) => parseHostname(v, "hostname")),
    });
  }
  a.disk = await askDisks(facts, a, prompter);
  if (a.profile === undefined) {
    a.profile = await prompter.select({
      message: "What should this node run?",
      choices: PROFILES.map((p) => ({ title: p, value: p, description: PROFILE_TEXT[p] })),
    });
  }
  a.ssh = { ...a.ssh };
  if (a.ssh.authorizedKeys === undefined) a.ssh.authorizedKeys = await askKeys(ctx.keysFound, prompter);
  if (a.ssh.port === undefined) {
    const answer = await prompter.text({
      message: "SSH port after lockdown (22 stays open until the new port is proven to work)",
      initial: String(d.ssh.port),
      validate: validateWith((v) => lockdownPort(v, "ssh.port")),
    });
    a.ssh.port = lockdownPort(answer, "ssh.port");
  }
  a.fail2ban = { ...a.fail2ban };
  if (a.fail2ban.ignoreIP === undefined) {
    const answer = await prompter.text({
      message:
        "Addresses fail2ban must never ban (yours as the server sees it is filled in; space-separated, empty for none)",
      initial: facts.operatorAddress ?? "",
      validate: validateWith((v) => words(v).forEach((w, i) => parseIgnoreIP(w, `fail2ban.ignoreIP[${i}]`))),
    });
    a.fail2ban.ignoreIP = words(answer);
  }
  if (a.timezone === undefined) {
    a.timezone = await prompter.text({
      message: "Time zone",
      initial: d.timezone,
      validate: validateWith((v) => parseConfig({ timezone: v })),
    });
  }
  // Every answer went through the same validators as a config file; this fills the rest and
  // checks what only makes sense together (disks against the machine, port against the profile).
  return resolveConfig(a, facts, { interactive: false }, ctx.notes);
}

function words(s: string): string[] {
  return s.split(/[\s,]+/).filter(Boolean);
}

/**
 * The operator's keys (the login key first), all ticked; then as many pasted keys as wanted, one
 * per question, each checked as a config file's key would be, until an empty answer.
 */
async function askKeys(found: string[], prompter: Prompter): Promise<string[]> {
  const PASTE = "\0paste";
  let chosen: string[] = [];
  if (found.length > 0) {
    chosen = await prompter.multiselect({
      message: "Which public keys may log in to the new system?",
      choices: [
        ...found.map((k) => ({ title: shortKey(k), value: k, selected: true })),
        { title: "paste other keys…", value: PASTE },
      ],
      min: 1,
    });
  }
  const keys = chosen.filter((k) => k !== PASTE);
  if (found.length > 0 && !chosen.includes(PASTE)) return keys;
  for (;;) {
    const required = keys.length === 0;
    const pasted = await prompter.text({
      message:
        found.length === 0 && required
          ? "No SSH public key found in your agent or ~/.ssh. Paste a public key that may log in"
          : `Paste another public key (${keys.length} so far; empty to finish)`,
      validate: validateWith((v) => {
        if (v.trim() === "" && !required) return;
        parseConfig({ ssh: { authorizedKeys: [...keys, v.trim()] } });
      }),
    });
    if (pasted.trim() === "") return keys;
    keys.push(pasted.trim());
  }
}

/** "ssh-ed25519 AAAAC3…x9Qk you@laptop": recognisable without filling the screen. */
export function shortKey(line: string): string {
  const [type, blob, ...comment] = line.trim().split(/\s+/);
  return `${type} ${blob && blob.length > 16 ? `${blob.slice(0, 8)}…${blob.slice(-6)}` : (blob ?? "")}${comment.length ? ` ${comment.join(" ")}` : ""}`;
}
