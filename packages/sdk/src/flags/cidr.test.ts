import { describe, expect, it } from "vitest";
import { parseCidr, parseIp } from "./cidr.ts";

const inBlock = (ip: string, cidr: string) => {
  const block = parseCidr(cidr);
  const address = parseIp(ip);
  if (typeof block === "string" || !address) throw new Error(`bad fixture ${ip} ${cidr}`);
  return block(address);
};

describe("IP addresses and CIDR blocks", () => {
  it.each([
    ["1.2.3.4", [1, 2, 3, 4]],
    ["::", new Array(16).fill(0)],
    ["::1", [...new Array(15).fill(0), 1]],
    [
      "2001:db8::8a2e:370:7334",
      [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34],
    ],
    ["2001:DB8:0:0:0:0:0:1", [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]],
    ["::ffff:192.0.2.1", [192, 0, 2, 1]],
    ["64:ff9b::192.0.2.1", [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1]],
  ])("parses %s", (text, bytes) => {
    expect([...parseIp(text)!.bytes]).toEqual(bytes);
  });

  it.each([
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3.-4",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "12345::",
    "fe80::1%eth0",
    "::1.2.3",
    "",
    "g::1",
    "1:2:3:4:5:6:7::8:9",
  ])("refuses %j as an address", (text) => expect(parseIp(text)).toBeNull());

  it.each([
    ["10.0.0.1/8", "host bits"],
    ["10.0.0.0", "no prefix length"],
    ["10.0.0.0/33", "0–32"],
    ["10.0.0.0/08", "0–32"],
    ["2001:db8::/129", "0–128"],
    ["2001:db8::1/64", "host bits"],
    ["nonsense/8", "IP address"],
  ])("refuses %j as a block, explaining (%s)", (text, hint) => {
    const result = parseCidr(text);
    expect(typeof result).toBe("string");
    expect(result).toContain(hint);
  });

  it("matches prefixes that end mid-byte", () => {
    expect(inBlock("172.16.0.1", "172.16.0.0/12")).toBe(true);
    expect(inBlock("172.31.255.255", "172.16.0.0/12")).toBe(true);
    expect(inBlock("172.32.0.0", "172.16.0.0/12")).toBe(false);
    expect(inBlock("2001:db8:8000::1", "2001:db8:8000::/33")).toBe(true);
    expect(inBlock("2001:db8:7fff::1", "2001:db8:8000::/33")).toBe(false);
  });

  it("keeps the families apart, except IPv4-mapped IPv6 which is IPv4", () => {
    expect(inBlock("::ffff:10.0.0.1", "10.0.0.0/8")).toBe(true);
    expect(inBlock("10.0.0.1", "::/0")).toBe(false);
    expect(inBlock("::1", "0.0.0.0/0")).toBe(false);
    expect(inBlock("1.2.3.4", "0.0.0.0/0")).toBe(true);
    expect(inBlock("1.2.3.4", "1.2.3.4/32")).toBe(true);
  });
});
