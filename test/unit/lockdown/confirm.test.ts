// The confirmation's verdicts with a scripted connector: which observations end the attempt at
// once (a different host key, passwords still offered) and which are retried within the budget.
import { describe, expect, it } from "vitest";
import { CancelledError } from "../../../src/errors";
import { confirmNewConfig } from "../../../src/lockdown/confirm";
import { hintFor } from "../../../src/lockdown/supervised-stage";
import { hostKeyChanged, hostKeyDeclined, hostKeyRejected } from "../../../src/remote/ssh-errors";
import type { LockdownConnector, PortProbe, RemoteSession } from "../../../src/lockdown/types";

const session: RemoteSession = {
  run: async () => ({ code: 0, stdout: "", stderr: "" }),
  upload: async () => undefined,
  close: async () => undefined,
};

function connector(script: {
  probes: PortProbe[];
  methods?: string[] | Error;
  login?: Error;
}): LockdownConnector & { calls: string[] } {
  const calls: string[] = [];
  let i = 0;
  return {
    host: "203.0.113.7",
    user: "root",
    calls,
    probe: async (port) => (calls.push(`probe ${port}`), script.probes[Math.min(i++, script.probes.length - 1)]!),
    authMethods: async (port) => {
      calls.push(`methods ${port}`);
      if (script.methods instanceof Error) throw script.methods;
      return script.methods ?? ["publickey"];
    },
    openKeySession: async (port) => {
      calls.push(`login ${port}`);
      if (script.login) throw script.login;
      return session;
    },
  };
}
const opts = { budgetMs: 1500, log: () => undefined };

describe("confirmNewConfig", () => {
  it("succeeds once the port opens, offers only publickey and a key login works", async () => {
    const c = connector({ probes: ["refused", "open"] });
    const r = await confirmNewConfig(c, 2222, opts);
    expect(r.ok).toBe(true);
    expect(c.calls).toEqual(["probe 2222", "probe 2222", "methods 2222", "login 2222"]);
  });
  it("a port that never answers: says the provider's firewall probably blocks it", async () => {
    const r = await confirmNewConfig(connector({ probes: ["timeout"] }), 2222, opts);
    expect(r).toMatchObject({
      ok: false,
      observed: expect.stringMatching(
        /^port 2222 never answered from here within \d+s; the provider's firewall probably blocks it$/,
      ),
    });
  });
  it("passwords still offered: fails at once, no login attempted", async () => {
    const c = connector({ probes: ["open"], methods: ["publickey", "password"] });
    const r = await confirmNewConfig(c, 2222, opts);
    expect(r).toMatchObject({ ok: false, observed: "port 2222 still offers password logins", attempts: 1 });
    expect(c.calls).not.toContain("login 2222");
  });
  it("a host key that is not the pinned one: fails at once, never retried, kind 'changed'", async () => {
    const c = connector({
      probes: ["open"],
      methods: hostKeyChanged("root@x:2222", ["SHA256:" + "A".repeat(43)], "SHA256:" + "B".repeat(43), "pin"),
    });
    const r = await confirmNewConfig(c, 2222, opts);
    expect(r).toMatchObject({
      ok: false,
      attempts: 1,
      failure: { kind: "host-key", hostKey: "changed" },
      observed: expect.stringMatching(/host key that is not the pinned one/),
    });
    if (!r.ok) expect(hintFor(r.failure, 2222)).toMatch(/different host key; do not continue/);
  });
  it("a declined host key is reported as declined, not as 'not the pinned one'", async () => {
    const c = connector({ probes: ["open"], login: hostKeyDeclined("root@x:2222", "SHA256:" + "C".repeat(43)) });
    const r = await confirmNewConfig(c, 2222, opts);
    expect(r).toMatchObject({ ok: false, attempts: 1, failure: { kind: "host-key", hostKey: "declined" } });
    if (!r.ok) {
      expect(r.observed).toMatch(/^the host key on port 2222 was declined/);
      expect(r.observed).not.toMatch(/not the pinned one/);
      expect(hintFor(r.failure, 2222)).not.toMatch(/different host key/);
    }
    expect(hostKeyDeclined("w", "SHA256:x")).toBeInstanceOf(CancelledError);
  });
  it("an unknown host key (no record) is its own kind", async () => {
    const c = connector({
      probes: ["open"],
      methods: hostKeyRejected("root@x:2222", "SHA256:D", "not in known_hosts"),
    });
    const r = await confirmNewConfig(c, 2222, opts);
    expect(r).toMatchObject({ ok: false, failure: { kind: "host-key", hostKey: "unknown" } });
    if (!r.ok) expect(r.observed).toMatch(/host key that is not on record/);
  });
  it("an error that merely mentions 'host key' in its text is not taken for a host-key refusal", async () => {
    const c = connector({ probes: ["open"], methods: new Error("kex failed: no matching host key type found") });
    const r = await confirmNewConfig(c, 2222, { budgetMs: 1200, log: () => undefined });
    expect(r).toMatchObject({ ok: false, failure: { kind: "handshake" } });
    expect(r.attempts).toBeGreaterThan(1);
  });
  it("a refused key is retried within the budget, then reported", async () => {
    const c = connector({ probes: ["open"], login: new Error("permission denied (publickey)") });
    const r = await confirmNewConfig(c, 2222, { budgetMs: 1200, log: () => undefined });
    expect(r.ok).toBe(false);
    expect(r.attempts).toBeGreaterThan(1);
    if (!r.ok) expect(r.observed).toBe("a key-only login on port 2222 failed: permission denied (publickey)");
  });
});
