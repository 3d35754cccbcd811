// lockdown --local prints the known_hosts line for the addresses this machine has: `ip -o addr show
// scope global` as iproute2 prints it, IPv4 first, link-local and loopback never listed.
import { describe, expect, it } from "vitest";
import { parseAddresses } from "../../../src/install/local/lockdown-local";

describe("lockdown --local: the machine's addresses", () => {
  it("global IPv4 then IPv6 addresses, in the order ip prints them", () => {
    const out = [
      "2: eth0    inet 192.0.2.7/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever",
      "2: eth0    inet6 2001:db8::7/64 scope global \\       valid_lft forever preferred_lft forever",
      "3: eth1    inet 198.51.100.4/25 brd 198.51.100.127 scope global dynamic eth1\\       valid_lft 86000sec preferred_lft 86000sec",
    ].join("\n");
    expect(parseAddresses(out)).toEqual(["192.0.2.7", "198.51.100.4", "2001:db8::7"]);
  });
  it("nothing when the machine has no global address", () => {
    expect(parseAddresses("")).toEqual([]);
  });
});
