// Which hosting provider a machine belongs to, from its DMI/SMBIOS strings. Only a hint for
// defaults and messages (e.g. "Hetzner Cloud: static IPv6 with gateway fe80::1"); nothing is
// decided on it alone. Unknown stays null rather than guessed.

export interface DmiStrings {
  systemVendor: string | null;
  systemProduct: string | null;
  biosVendor: string | null;
  chassisAssetTag: string | null;
  /** Disk models help where DMI is generic (Oracle Cloud's "ORACLE BlockVolume"). */
  diskModels: string[];
  virtualised: boolean;
}

const RULES: Array<{ hint: string; test: (d: DmiStrings, all: string) => boolean }> = [
  {
    hint: "hetzner-cloud",
    test: (d, all) => /hetzner/i.test(all) && (d.virtualised || /vserver/i.test(d.systemProduct ?? "")),
  },
  { hint: "hetzner-dedicated", test: (d, all) => /hetzner/i.test(all) && !d.virtualised },
  { hint: "netcup", test: (_d, all) => /netcup/i.test(all) },
  { hint: "vultr", test: (_d, all) => /vultr/i.test(all) },
  {
    hint: "oracle-cloud",
    test: (d, all) => /oraclecloud|oracle cloud/i.test(all) || d.diskModels.some((m) => /^ORACLE BlockVolume/i.test(m)),
  },
  { hint: "digitalocean", test: (_d, all) => /digitalocean/i.test(all) },
  { hint: "ovh", test: (_d, all) => /\bovh/i.test(all) },
  { hint: "scaleway", test: (_d, all) => /scaleway/i.test(all) },
  { hint: "linode", test: (_d, all) => /linode|akamai/i.test(all) },
  { hint: "aws", test: (_d, all) => /amazon ec2/i.test(all) },
  { hint: "gcp", test: (_d, all) => /google compute engine/i.test(all) },
  {
    hint: "azure",
    test: (d) => /microsoft/i.test(d.systemVendor ?? "") && /virtual machine/i.test(d.systemProduct ?? ""),
  },
  { hint: "contabo", test: (_d, all) => /contabo/i.test(all) },
  { hint: "upcloud", test: (_d, all) => /upcloud/i.test(all) },
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

export function providerHint(d: DmiStrings): string | null {
  const all = [d.systemVendor, d.systemProduct, d.biosVendor, d.chassisAssetTag].filter(Boolean).join(" | ");
  return RULES.find((r) => r.test(d, all))?.hint ?? null;
}
