// Address syntax as validateFacts accepts it: what `ip -json` prints is valid, typos are not.
import { describe, expect, it } from "vitest";
import { isIpv4, isIpv6, parseIpOrCidr } from "../../../src/util/ip";

describe("isIpv4 / isIpv6", () => {
  it.each(["0.0.0.0", "172.31.1.1", "255.255.255.255", "135.181.155.146"])("%s is IPv4", (a) => {
    expect([isIpv4(a), isIpv6(a)]).toEqual([true, false]);
  });
  it.each(["256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4.5", "1.2.3.4/32", " 1.2.3.4", ""])("%j is not IPv4", (a) => {
    expect(isIpv4(a)).toBe(false);
  });
  it.each([
    "::",
    "::1",
    "fe80::1",
    "2a01:4ff:ff00::add:1",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::",
    "::ffff:10.0.0.1",
    "2001:DB8::A",
  ])("%s is IPv6", (a) => {
    expect([isIpv6(a), isIpv4(a)]).toEqual([true, false]);
  });
  it.each([
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "gggg::1",
    "12345::1",
    "1:2:3:4:5:6:7",
    "fe80::1%eth0",
    "2001:db8::/64",
    ":",
  ])("%j is not IPv6", (a) => {
    expect(isIpv6(a)).toBe(false);
  });
});

describe("parseIpOrCidr (fail2ban.ignoreIP, --ignore-ip)", () => {
  it.each([
    ["203.0.113.7", { address: "203.0.113.7", family: 4, prefix: null }],
    ["10.0.0.0/8", { address: "10.0.0.0", family: 4, prefix: 8 }],
    ["0.0.0.0/0", { address: "0.0.0.0", family: 4, prefix: 0 }],
    ["2001:db8::/32", { address: "2001:db8::", family: 6, prefix: 32 }],
    ["::1/128", { address: "::1", family: 6, prefix: 128 }],
  ])("%s is accepted", (text, parts) => {
    expect(parseIpOrCidr(text)).toEqual(parts);
  });
  it.each([
    "999.999.999.999/999",
    "999.999.999.999",
    "10.0.0.0/33",
    "10.0.0.0/033",
    "10.0.0.0/08",
    "010.0.0.1",
    "1.2.3.4/",
    "1.2.3.4/-1",
    "2001:db8::/129",
    "fe80::1%eth0",
    "fe80::1%eth0/64",
    "1.2.3.4;reboot",
    "1.2.3.4 5.6.7.8",
    "$(id)",
    "",
  ])("%j is refused", (text) => {
    expect(parseIpOrCidr(text)).toBeNull();
  });
});
