// Real OpenSSH keys and a real ssh-agent for tests.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { mustRun } from "../targets/run-command";

export interface KeyPair {
  type: "ed25519" | "rsa";
  privatePath: string;
  publicPath: string;
  /** the authorized_keys line */
  publicKey: string;
  /** SHA256:... as ssh-keygen -l prints it */
  fingerprint: string;
  passphrase?: string;
}

let counter = 0;

/** A new key pair in dir (0600). The passphrase goes through -N: argv, acceptable in tests only. */
export async function makeKeyPair(
  dir: string,
  opts: { type?: "ed25519" | "rsa"; passphrase?: string; comment?: string } = {},
): Promise<KeyPair> {
  const type = opts.type ?? "ed25519";
  const privatePath = join(dir, `id_${type}_${process.pid}_${counter++}`);
  const args = ["-q", "-t", type, "-N", opts.passphrase ?? "", "-C", opts.comment ?? "nixnode-test", "-f", privatePath];
  if (type === "rsa") args.splice(3, 0, "-b", "3072");
  await mustRun("ssh-keygen", args);
  const publicKey = readFileSync(`${privatePath}.pub`, "utf8").trim();
  const fp = /SHA256:\S+/.exec(await mustRun("ssh-keygen", ["-l", "-f", `${privatePath}.pub`]));
  return {
    type,
    privatePath,
    publicPath: `${privatePath}.pub`,
    publicKey,
    fingerprint: fp![0],
    passphrase: opts.passphrase,
  };
}

export interface Agent {
  sock: string;
  stop(): Promise<void>;
}

/** A real ssh-agent holding `keys` (passphrases are fed through SSH_ASKPASS, not argv). */
export async function startAgent(keys: KeyPair[]): Promise<Agent> {
  const dir = mkdtempSync(join(tmpdir(), "nnt-agent-"));
  const sock = join(dir, "agent.sock");
  const agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
  const stop = async () => {
    agent.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; !existsSync(sock); i++) {
    if (i > 200 || agent.exitCode !== null) {
      await stop();
      throw new Error("ssh-agent did not create its socket");
    }
    await sleep(10);
  }
  const askpass = join(dir, "askpass");
  writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$NNT_KEY_PASSPHRASE"\n', { mode: 0o700 });
  try {
    for (const k of keys) {
      await new Promise<void>((resolve, reject) => {
        const add = spawn("ssh-add", [k.privatePath], {
          stdio: ["ignore", "ignore", "pipe"],
          env: {
            ...process.env,
            SSH_AUTH_SOCK: sock,
            SSH_ASKPASS: askpass,
            SSH_ASKPASS_REQUIRE: "force",
            DISPLAY: ":0",
            NNT_KEY_PASSPHRASE: k.passphrase ?? "",
          },
        });
        let err = "";
        add.stderr.on("data", (d) => (err += d));
        add.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ssh-add ${k.privatePath}: ${err}`))));
      });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { sock, stop };
}
