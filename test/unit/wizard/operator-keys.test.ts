// Keys offered by the wizard: the login key (-i), the agent's and ~/.ssh/*.pub, valid ones only, each once.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findOperatorKeys, systemKeySources } from "../../../src/wizard/operator-keys";

const home = mkdtempSync(join(tmpdir(), "nn-keys-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const keygen = (name: string, ...extra: string[]) => {
  execFileSync("ssh-keygen", ["-q", "-N", "", "-C", name, "-f", join(home, ".ssh", name), ...extra]);
  return readFileSync(join(home, ".ssh", `${name}.pub`), "utf8").trim();
};

describe("findOperatorKeys", () => {
  mkdirSync(join(home, ".ssh"));
  const ed = keygen("id_ed25519", "-t", "ed25519");
  const rsaWeak = keygen("id_rsa_old", "-t", "rsa", "-b", "1024");
  const ecdsa = keygen("id_ecdsa", "-t", "ecdsa");
  writeFileSync(join(home, ".ssh", "notes.pub"), "# not a key\nhello world\n");

  it("reads ~/.ssh/*.pub, offers valid keys only (no 1024-bit RSA, no junk)", async () => {
    const keys = await findOperatorKeys(systemKeySources({ HOME: home }));
    expect(keys.sort()).toEqual([ecdsa, ed].sort());
    expect(keys).not.toContain(rsaWeak);
  });
  it("agent keys first, each key once even when the agent and a file both have it", async () => {
    const agentOnly = keygen("agent_only", "-t", "ed25519");
    rmSync(join(home, ".ssh", "agent_only.pub"));
    const keys = await findOperatorKeys({
      agentKeys: async () => `${agentOnly}\n${ed}\n`,
      pubFiles: systemKeySources({ HOME: home }).pubFiles,
    });
    expect(keys[0]).toBe(agentOnly);
    expect(keys.filter((k) => k === ed)).toHaveLength(1);
  });
  it("the key given with -i comes first: KEY.pub beside it, or derived from an unencrypted KEY", async () => {
    const login = join(home, "elsewhere");
    mkdirSync(login);
    execFileSync("ssh-keygen", ["-q", "-N", "", "-t", "ed25519", "-C", "login@laptop", "-f", join(login, "k1")]);
    execFileSync("ssh-keygen", ["-q", "-N", "", "-t", "ed25519", "-C", "derived@laptop", "-f", join(login, "k2")]);
    const k1 = readFileSync(join(login, "k1.pub"), "utf8").trim();
    const k2 = readFileSync(join(login, "k2.pub"), "utf8").trim();
    rmSync(join(login, "k2.pub"));
    const keys = await findOperatorKeys(
      systemKeySources({ HOME: home }, home, [join(login, "k1"), join(login, "k2"), join(login, "missing")]),
    );
    expect(keys.slice(0, 2)).toEqual([k1, k2.split(" ").slice(0, 2).join(" ") + " derived@laptop"]);
    expect(keys).toContain(ed);
  });
  it("no ~/.ssh and no agent: no keys, no error", async () => {
    expect(await findOperatorKeys(systemKeySources({ HOME: join(home, "nowhere") }))).toEqual([]);
  });
});
