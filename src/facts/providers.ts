// The one table of hosting providers: how each is recognised from DMI/SMBIOS strings (by the live
// probe and by nixos-facter imports alike) and the quirks that decide whether a machine answers
// after the reboot and after lockdown. Detection fills facts.provider.hint with an id from here;
// planning and preflight read the quirks by that id. Unknown stays null rather than guessed.

export interface DmiStrings {
  systemVendor: string | null;
  systemProduct: string | null;
  biosVendor: string | null;
  chassisAssetTag: string | null;
  /** Disk models help where DMI is generic (Oracle Cloud's "ORACLE BlockVolume"). */
  diskModels: string[];
  /** Anything else the firmware says (board and chassis vendor). */
  others?: Array<string | null>;
  virtualised: boolean;
}

export interface ProviderQuirks {
  /** The IPv4 gateway every server gets, reachable only on-link (the address is a /32). */
  onLinkGateway4?: string;
  /** How IPv6 reaches the server, when it is not plain router advertisements. */
  ipv6?: string;
  /** The smallest plans and what they mean for the kexec installer (which needs 1 GiB of RAM). */
  ramFloor?: string;
  /** Where the provider's own firewall is set: it must let the new SSH port in before lockdown. */
  firewallPanel?: string;
}

export interface Provider {
  id: string;
  name: string;
  matches(d: DmiStrings, all: string): boolean;
  quirks: ProviderQuirks;
}

const text = (re: RegExp) => (_d: DmiStrings, all: string) => re.test(all);

export const PROVIDERS: readonly Provider[] = [
  {
    id: "hetzner-cloud",
    name: "Hetzner Cloud",
    matches: (d, all) => /hetzner/i.test(all) && (d.virtualised || /vserver/i.test(d.systemProduct ?? "")),
    quirks: {
      onLinkGateway4: "172.31.1.1",
      ipv6: "a /64 routed to the server, gateway fe80::1, set statically (no router advertisements)",
      firewallPanel: "Hetzner Cloud Console → Firewalls",
    },
  },
  {
    id: "hetzner-dedicated",
    name: "Hetzner dedicated (Robot)",
    matches: (d, all) => /hetzner/i.test(all) && !d.virtualised,
    quirks: {
      ipv6: "a /64 routed to the server, gateway fe80::1, set statically",
      firewallPanel: "Hetzner Robot → Server → Firewall",
    },
  },
  {
    id: "netcup",
    name: "netcup",
    matches: text(/netcup/i),
    quirks: {
      ipv6: "a /64 set statically, gateway fe80::1",
      firewallPanel: "netcup Server Control Panel → Firewall",
    },
  },
  {
    id: "ovh",
    name: "OVHcloud",
    matches: text(/\bovh/i),
    quirks: {
      ipv6: "a static address whose gateway lies outside its /64 or /128 (an on-link route is needed)",
      firewallPanel: "OVHcloud Control Panel → IP → Edge Network Firewall",
    },
  },
  {
    id: "vultr",
    name: "Vultr",
    matches: text(/vultr/i),
    quirks: { firewallPanel: "Vultr → Network → Firewall groups" },
  },
  {
    id: "oracle-cloud",
    name: "Oracle Cloud",
    matches: (d, all) =>
      /oraclecloud|oracle cloud/i.test(all) || d.diskModels.some((m) => /^ORACLE BlockVolume/i.test(m)),
    quirks: {
      ramFloor:
        "the Always Free E2.1.Micro shape has 1 GiB, too little for the kexec installer; A1.Flex (Ampere) shapes have more",
      firewallPanel: "OCI console → the VCN's security list or network security group",
    },
  },
  {
    id: "digitalocean",
    name: "DigitalOcean",
    matches: text(/digitalocean/i),
    quirks: { firewallPanel: "DigitalOcean → Networking → Firewalls" },
  },
  {
    id: "scaleway",
    name: "Scaleway",
    matches: text(/scaleway/i),
    quirks: { firewallPanel: "Scaleway console → Security groups" },
  },
  {
    id: "linode",
    name: "Akamai (Linode)",
    matches: text(/linode|akamai/i),
    quirks: { firewallPanel: "Linode Cloud Manager → Firewalls" },
  },
  { id: "aws", name: "AWS EC2", matches: text(/amazon ec2/i), quirks: { firewallPanel: "EC2 → Security groups" } },
  {
    id: "gcp",
    name: "Google Compute Engine",
    matches: (d, all) => /google compute engine/i.test(all) || /^google$/i.test(d.systemVendor ?? ""),
    quirks: { firewallPanel: "Google Cloud console → VPC network → Firewall" },
  },
  {
    id: "azure",
    name: "Microsoft Azure (or Hyper-V)",
    matches: (d) => /microsoft/i.test(d.systemVendor ?? "") && /virtual machine/i.test(d.systemProduct ?? ""),
    quirks: { firewallPanel: "Azure portal → the VM's network security group" },
  },
  { id: "contabo", name: "Contabo", matches: text(/contabo/i), quirks: {} },
  {
    id: "upcloud",
    name: "UpCloud",
    matches: text(/upcloud/i),
    quirks: { firewallPanel: "UpCloud control panel → Server → Firewall" },
  },
  {
    id: "alibaba",
    name: "Alibaba Cloud",
    matches: text(/alibaba/i),
    quirks: { firewallPanel: "Alibaba Cloud console → ECS security groups" },
  },
  {
    id: "openstack",
    name: "an OpenStack cloud",
    matches: text(/openstack/i),
    quirks: { firewallPanel: "the cloud's security groups" },
  },
];

/** Vendor strings firmware ships with when the board maker filled in nothing. */
export function cleanDmi(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const s = v.trim();
  if (
    s === "" ||
    /^(to be filled by o\.?e\.?m\.?|default string|not specified|notspecified|system manufacturer|system product name|none|n\/a)$/i.test(
      s,
    )
  )
    return null;
  return s;
}

/** The provider's id (facts.provider.hint), or null when no entry matches. */
export function detectProvider(d: DmiStrings): string | null {
  const all = [d.systemVendor, d.systemProduct, d.biosVendor, d.chassisAssetTag, ...(d.others ?? [])]
    .filter(Boolean)
    .join(" | ");
  return PROVIDERS.find((p) => p.matches(d, all))?.id ?? null;
}

export function providerById(id: string | null | undefined): Provider | undefined {
  return id ? PROVIDERS.find((p) => p.id === id) : undefined;
}
