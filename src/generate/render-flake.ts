// InstallPlan -> the flake folder the operator keeps, as { relative path: contents }. Pure: the
// templates are real files in flake-templates/ (bundled as text), filled by fill-template.ts; the
// managed values go to host.json as data, never spliced into Nix.
import baseFlake from "../../flake-templates/base/flake.nix?raw";
import readme from "../../flake-templates/base/README.md?raw";
import defaultNix from "../../flake-templates/base/hosts/default.nix?raw";
import networkNix from "../../flake-templates/base/hosts/network.nix?raw";
import nixnodeNix from "../../flake-templates/base/hosts/nixnode.nix?raw";
import nixBitcoinFlake from "../../flake-templates/nix-bitcoin/flake.nix?raw";
import nixBitcoinProfile from "../../flake-templates/nix-bitcoin/profile.nix?raw";
import peerObserverFlake from "../../flake-templates/peer-observer/flake.nix?raw";
import peerObserverInfra from "../../flake-templates/peer-observer/infra.nix?raw";
import peerObserverProfile from "../../flake-templates/peer-observer/profile.nix?raw";
import type { InstallPlan, Profile } from "../plan/types";
import { withAgenix } from "./agenix-wiring";
import { bootLoaderFor, renderDiskConfig } from "./disk-config";
import { fillTemplate, nixStr } from "./fill-template";
import { renderHardwareNix } from "./render-hardware";

export type FlakeFiles = Record<string, string>;

const PROFILES: Record<Profile, { flake: string; module: string | null; inputs: string; about: string }> = {
  base: { flake: baseFlake, module: null, inputs: "", about: "" },
  "nix-bitcoin": {
    flake: nixBitcoinFlake,
    module: nixBitcoinProfile,
    inputs: ", nix-bitcoin (pinned; upstream archived in 2026)",
    about: "bitcoind and Core Lightning via nix-bitcoin",
  },
  "peer-observer": {
    flake: peerObserverFlake,
    module: peerObserverProfile,
    inputs: ", peer-observer infra-library (pinned)",
    about: "glue between infra-library and host.json (which SSH settings win, and why)",
  },
};

export function renderFlake(plan: InstallPlan): FlakeFiles {
  const { config, host } = plan;
  const h = config.hostname;
  const dir = `hosts/${h}`;
  const profile = PROFILES[config.profile];
  const files: FlakeFiles = {};

  const rebuild = rebuildCommand(config);
  files["flake.nix"] = fillTemplate(profile.flake, `flake-templates/${config.profile}/flake.nix`, {
    hostname: h,
    rebuild,
    ...(config.profile === "nix-bitcoin" ? {} : { nixos: config.nixos }),
  });
  // Every flake loads agenix: `nixnode-install secrets add` may give any node secrets later, and its
  // secrets/module.nix is imported only once it exists, so a node without secrets is unchanged.
  files["flake.nix"] = withAgenix(files["flake.nix"], `flake-templates/${config.profile}/flake.nix`);
  if (profile.module) files[`profiles/${config.profile}.nix`] = profile.module;
  if (config.profile === "peer-observer") {
    files["infra.nix"] = fillTemplate(peerObserverInfra, "flake-templates/peer-observer/infra.nix", {
      hostname: h,
      bitcoind: infraBitcoind(plan),
      extraConfig: infraExtraConfig(plan),
    });
  }
  files["nixnode.json"] = json(config);
  files[`${dir}/host.json`] = json(host);
  files[`${dir}/default.nix`] = fillTemplate(defaultNix, "flake-templates/base/hosts/default.nix", {
    hostname: h,
    imports: hostImports(plan),
    settings: hostSettings(plan),
  });
  files[`${dir}/nixnode.nix`] = nixnodeNix;
  files[`${dir}/network.nix`] = networkNix;
  files[`${dir}/disk-config.nix`] = renderDiskConfig(plan.disk);
  files[`${dir}/boot.nix`] = bootLoaderFor(plan.disk, host.system);
  if (plan.hardware.kind === "facter") files[`${dir}/facter.json`] = json(plan.hardware.report);
  else files[`${dir}/hardware.nix`] = renderHardwareNix(plan.hardware, host.system);
  config.ssh.authorizedKeys.forEach((k, i) => (files[`keys/operator-${i + 1}.pub`] = `${k}\n`));
  files[".nixnode/state.json"] = json({ schema: 1, hostname: h, phases: { plan: "done" }, hostKeyFingerprint: null });
  files[".gitignore"] = [
    "# build results",
    "result",
    "result-*",
    "# decrypted secrets must never be committed; only secrets/*.age",
    "*.decrypted",
    "",
  ].join("\n");
  files["README.md"] = fillTemplate(readme, "flake-templates/base/README.md", {
    hostname: h,
    profile: config.profile,
    nixos: config.profile === "nix-bitcoin" ? `${config.nixos} (nixpkgs follows nix-bitcoin's pin)` : config.nixos,
    inputs: profile.inputs,
    sshPort: String(config.ssh.port),
    rebuild,
    rebuildNote: config.ssh.adminUser
      ? `(${config.ssh.adminUser} is the admin user: the lockdown turns root logins off, \`--sudo\` activates as root, and nixnode.nix makes ${config.ssh.adminUser} a trusted Nix user so the copied closure is accepted. Before the lockdown: \`-p 22\`.)`
      : "(root logs in with your keys. Before the lockdown: `-p 22`.)",
    hardwareRow:
      plan.hardware.kind === "facter"
        ? `| \`hosts/${h}/facter.json\` | the nixos-facter hardware report (hardware.facter.reportPath) | you, by re-running nixos-facter |`
        : `| \`hosts/${h}/hardware.nix\` | drivers and CPU settings from the detected hardware | you |`,
    profileRow: [
      ...(profile.module
        ? [`| \`profiles/${config.profile}.nix\` | the ${config.profile} profile: ${profile.about} | you |`]
        : []),
      ...(config.profile === "peer-observer"
        ? [
            "| `infra.nix` | this node in infra-library's terms (`infra.nodes.<name>`: id, WireGuard address and key, Bitcoin Core settings); add webservers here | you |",
          ]
        : []),
    ],
  });
  return sortKeys(files);
}

function hostImports(plan: InstallPlan): string[] {
  return plan.hardware.kind === "modules" ? ["./hardware.nix"] : [];
}

/**
 * The day-2 rebuild from the operator's machine (nixos-rebuild-ng flags): after lockdown, SSH is on
 * the planned port, which ssh and `nix copy` take from NIX_SSHOPTS (a `HOST:PORT` target would not
 * reach either). With an admin user root cannot log in: connect as the admin, activate with --sudo.
 */
export function rebuildCommand(config: InstallPlan["config"]): string {
  const login = config.ssh.adminUser ?? "root";
  return `NIX_SSHOPTS="-p ${config.ssh.port}" nixos-rebuild switch --flake .#${config.hostname} --target-host ${login}@HOST${config.ssh.adminUser ? " --sudo" : ""}`;
}

/** infra.nix's bitcoind block (peer-observer): where the chain lives and whether it prunes. */
function infraBitcoind(plan: InstallPlan): string[] {
  const b = plan.bitcoin;
  if (!b) return [];
  return [
    `# ${b.summary}`,
    `prune = ${b.pruneMiB}; # MiB of block files; 0 keeps the full chain`,
    ...(b.dataDir ? [`dataDir = ${nixStr(b.dataDir)};`] : []),
  ];
}

/**
 * infra.nix's node extraConfig (peer-observer): bitcoind-mainnet requires the data disk's mount. Only
 * outside infra-library's setup mode, where that unit exists at all.
 */
function infraExtraConfig(plan: InstallPlan): string[] {
  const mount = plan.bitcoin?.requiresMount;
  if (!mount) return ["extraConfig = { };"];
  return [
    "# The data disk is mounted nofail (the machine boots without it); bitcoind must not: without",
    "# the disk it would start a fresh chain on the system disk and fill it.",
    "extraConfig =",
    "  if haveKey then",
    `    { systemd.services.bitcoind-mainnet.unitConfig.RequiresMountsFor = [ ${nixStr(mount)} ]; }`,
    "  else",
    "    { };",
  ];
}

/** Lines of default.nix that depend on the plan (facter report, data disk, the Bitcoin chain). */
function hostSettings(plan: InstallPlan): string[] {
  const lines: string[] = [];
  if (plan.hardware.kind === "facter") {
    lines.push(
      "# Hardware from the nixos-facter report next to this file.",
      "hardware.facter.reportPath = ./facter.json;",
      "# network.nix configures the network; facter's own per-interface DHCP would compete with it.",
      "hardware.facter.detected.dhcp.enable = false;",
    );
  }
  const b = plan.bitcoin;
  // peer-observer: the chain's settings are infra-library node options, in infra.nix.
  if (b && plan.config.profile === "nix-bitcoin") {
    lines.push(
      ...(lines.length ? [""] : []),
      `# Bitcoin: ${b.summary}.`,
      ...(b.dataDir ? [`services.bitcoind.dataDir = ${nixStr(b.dataDir)};`] : []),
      `services.bitcoind.prune = ${b.pruneMiB}; # MiB of block files; 0 keeps the full chain`,
    );
    if (b.requiresMount) {
      lines.push(
        "# The data disk is mounted nofail (the machine boots without it); bitcoind must not: without",
        "# the disk it would start a fresh chain on the system disk and fill it.",
        `systemd.services.bitcoind.unitConfig.RequiresMountsFor = [ ${nixStr(b.requiresMount)} ];`,
      );
    }
  }
  return lines;
}

function json(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

function sortKeys(files: FlakeFiles): FlakeFiles {
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}
