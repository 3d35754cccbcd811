// What eth0 of the nixos personality carries for a host.json, as plain data: the decisions
// network.nix's systemd-networkd units make (matched by MAC, or every wired port when mac is "";
// exact static addresses and routes; DHCP adds the lease). Pure, so that the contract test can hold
// it equal to what network.nix evaluates to; network.mjs applies it with ip(8).

export const family = (a) => (a.includes(":") ? 6 : 4);
const isDefault = (r) => /^(0\.0\.0\.0|::)\/0$/.test(r.destination);

/** `lease`: what DHCP hands out here (the harness's address and default route); `mac`: eth0's. */
export function desiredNetwork(host, lease, mac) {
  const iface = (host.network?.interfaces ?? []).find(
    (i) => i.mac === "" || (mac && i.mac.toLowerCase() === mac.toLowerCase()),
  );
  if (!iface) return { managed: false, dhcp4: true, addresses: lease.addresses, routes: lease.routes };
  const staticDefault4 = iface.routes.some((r) => family(r.gateway) === 4 && isDefault(r));
  return {
    managed: true,
    dhcp4: iface.dhcp4,
    addresses: [
      ...new Set([...iface.addresses, ...(iface.dhcp4 ? lease.addresses.filter((a) => family(a) === 4) : [])]),
    ],
    routes: [
      ...iface.routes.map((r) => ({ destination: r.destination, gateway: r.gateway, onLink: r.onLink })),
      ...(iface.dhcp4 && !staticDefault4 ? lease.routes.filter((r) => family(r.gateway) === 4) : []),
    ],
  };
}
