// Types for desired.mjs, which the contract test imports (the personality itself runs as plain JS).
import type { HostData } from "../../../../../src/plan/types";

export interface Modules {
  lockdown: boolean;
}
export interface SshdSettings {
  enable: boolean;
  ports: number[];
  PasswordAuthentication: boolean;
  KbdInteractiveAuthentication: boolean;
  PermitRootLogin: string;
  AllowUsers: string[] | null;
  authorizedKeys: Record<string, string[]>;
}
export interface Firewall {
  enable: boolean;
  allowedTCPPorts: number[];
  allowedUDPPorts: number[];
}
export interface Fail2ban {
  enable: boolean;
  maxretry: number;
  bantime: string;
  bantimeIncrement: boolean;
  ignoreIP: string[];
  jails: Record<string, Record<string, unknown>>;
}
export function desiredSshdSettings(host: HostData, modules: Modules): SshdSettings;
export function desiredFirewall(host: HostData, modules: Modules): Firewall;
export function desiredFail2ban(host: HostData): Fail2ban;
export function initialHostData(sshdConfigText: string, hostname: string): HostData;
