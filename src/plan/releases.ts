// The NixOS releases this tool plans for, in one place: the nixpkgs branch, the nixos-images tag whose
// kexec installer both engines boot, and the day the release leaves support. Planning for a release past
// its date warns; a release not in this table is refused (it names the ones that exist).
// Dates: NixOS supports a release for seven months after it comes out (the next release plus one month).

export interface NixosRelease {
  /** "26.05": system.stateVersion and the branch nixos-<version>. */
  version: string;
  /** ISO date (YYYY-MM-DD) of the last day with security support. */
  endOfSupport: string;
  /** The nixos-images release tag that carries this release's kexec installer. */
  kexecTag: string;
}

export const NIXOS_RELEASES: readonly NixosRelease[] = [
  { version: "25.11", endOfSupport: "2026-06-30", kexecTag: "nixos-25.11" },
  { version: "26.05", endOfSupport: "2026-12-31", kexecTag: "nixos-26.05" },
];

/** The current stable release: the default for every new plan. */
export const DEFAULT_NIXOS_RELEASE = "26.05";

export function findRelease(version: string): NixosRelease | undefined {
  return NIXOS_RELEASES.find((r) => r.version === version);
}

/** True when `today` (YYYY-MM-DD or a Date) is after the release's last day of support. */
export function isPastSupport(release: NixosRelease, today: Date = new Date()): boolean {
  return today.toISOString().slice(0, 10) > release.endOfSupport;
}

/** The warning for planning onto a release past its end of support, or null while it is supported. */
export function supportWarning(version: string, today: Date = new Date()): string | null {
  const release = findRelease(version);
  if (!release || !isPastSupport(release, today)) return null;
  return `nixos: NixOS ${version} left support on ${release.endOfSupport} and gets no security fixes; plan for "${DEFAULT_NIXOS_RELEASE}" (the current stable release) unless you must stay on ${version}`;
}

/**
 * Where the official minimal installer ISOs are published: channels.nixos.org redirects
 * nixos-<version>/latest-nixos-minimal-<arch>-linux.iso (and the same name + ".sha256", a line
 * "<hex>  <file name>") to the newest build of the release (NixOS/nixos-channel-scripts,
 * mirror-nixos-branch.pl). A mirror with the same layout may replace the base (`usb --mirror`).
 */
export const NIXOS_CHANNELS_URL = "https://channels.nixos.org";
export const ISO_ARCHES = ["x86_64", "aarch64"] as const;
export type IsoArch = (typeof ISO_ARCHES)[number];

export function minimalIsoUrl(version: string, arch: IsoArch, base: string = NIXOS_CHANNELS_URL): string {
  return `${base.replace(/\/+$/, "")}/nixos-${version}/latest-nixos-minimal-${arch}-linux.iso`;
}
