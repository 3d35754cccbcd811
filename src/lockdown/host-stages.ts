// The two lockdown stages as data: what host.json must say for stage 1 ([22, P], passwords off,
// fail2ban ignoring the operator) and stage 2 ([P] only). Pure: the .nix modules and the test
// personality both read exactly this data.
import { badField } from "../errors";
import { parseHostJson } from "../flake/host-file";
import type { HostData } from "../plan/types";

export type LockdownStage = "dual-port" | "final";

export interface StageInput {
  port: number;
  /** The operator's address as the target saw it ($SSH_CONNECTION), if known. */
  operatorAddress: string | null;
  /** Addresses the operator listed (--ignore-ip) on top of the ones already in host.json. */
  extraIgnoreIP: string[];
}

/**
 * Parses host.json with every field validated.
 * @deprecated use parseHostJson from src/flake/host-file (the one owner of host.json).
 */
export function parseHostData(text: string, file: string): HostData {
  return parseHostJson(text, file);
}

const uniq = <T>(xs: T[]) => [...new Set(xs)];

export function stageHostData(host: HostData, stage: LockdownStage, input: StageInput): HostData {
  const { port } = input;
  const sshPorts = stage === "dual-port" ? uniq([22, port]) : [port];
  // Ports that were open only for sshd go; ports the node itself needs stay.
  const oldSsh = new Set(host.ssh.ports);
  const nodePorts = host.firewall.allowedTCPPorts.filter((p) => !oldSsh.has(p) && p !== 22 && p !== port);
  const ignoreIP = uniq([
    ...host.fail2ban.ignoreIP,
    ...(input.operatorAddress ? [input.operatorAddress] : []),
    ...input.extraIgnoreIP,
  ]);
  return {
    ...host,
    ssh: {
      ...host.ssh,
      ports: sshPorts,
      passwordAuthentication: false,
      permitRootLogin: host.ssh.adminUser === null ? "prohibit-password" : "no",
    },
    firewall: { ...host.firewall, enable: true, allowedTCPPorts: uniq([...nodePorts, ...sshPorts]) },
    fail2ban: { ...host.fail2ban, enable: true, ignoreIP },
    lockdown: { stage, port },
  };
}

/** Preconditions on the data (LOCKDOWN.md step 0) that need no connection. */
export function checkLockdownData(host: HostData, port: number, file: string): void {
  if (host.ssh.authorizedKeys.length === 0) {
    throw badField(
      `${file}: ssh.authorizedKeys`,
      "is empty: after lockdown only keys can log in, so nobody could",
      "add your public key (ssh-ed25519 ...) to ssh.authorizedKeys, or re-run plan with --ssh-key",
    );
  }
  if (!host.ssh.hostKeyFingerprint) {
    throw badField(
      `${file}: ssh.hostKeyFingerprint`,
      "is not set: lockdown only talks to a host whose key the install pinned",
      "run the install first, or pin the key with --host-key SHA256:...",
    );
  }
  if (port === 22)
    throw badField("--port", "22 is the port being closed; choose another one (1024-65535 is usual, e.g. 2222)");
}
