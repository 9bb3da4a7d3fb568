/**
 * IPv4 and IPv6 addresses and CIDR blocks, strictly parsed. An IPv4-mapped IPv6 address
 * (`::ffff:10.1.2.3`) is treated as the IPv4 address it carries, so it matches IPv4 blocks.
 * Zone ids (`fe80::1%eth0`), shortened IPv4 forms and leading zeros are refused.
 */
export interface IpAddress {
  readonly bytes: Uint8Array;
}

export type CidrPredicate = (ip: IpAddress) => boolean;

/** Parses an IPv4 (4 bytes) or IPv6 (16 bytes) address, or returns null. */
export function parseIp(text: string): IpAddress | null {
  const bytes = text.includes(":") ? parseIpv6(text) : parseIpv4(text);
  if (!bytes) return null;
  return { bytes: isV4Mapped(bytes) ? bytes.subarray(12) : bytes };
}

/** Compiles `10.0.0.0/8` or `2001:db8::/32`; an error message when it is not a CIDR block. */
export function parseCidr(text: string): CidrPredicate | string {
  const slash = text.indexOf("/");
  if (slash < 0) return `"${text}" has no prefix length; write "${text}/32" (IPv4) or "/128" (IPv6)`;
  const network = text.includes(":") ? parseIpv6(text.slice(0, slash)) : parseIpv4(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (!network) return `"${text}" does not start with an IP address`;
  const prefix = Number(lengthText);
  if (!/^(0|[1-9]\d*)$/.test(lengthText) || prefix > network.length * 8) {
    return `"${text}" has prefix length ${lengthText}; it must be 0–${network.length * 8}`;
  }
  if (!hostBitsZero(network, prefix)) return `"${text}" has host bits set after /${prefix}`;
  if (isV4Mapped(network) && prefix >= 96) return block(network.subarray(12), prefix - 96);
  return block(network, prefix);
}

function block(network: Uint8Array, prefix: number): CidrPredicate {
  return (ip) => ip.bytes.length === network.length && samePrefix(ip.bytes, network, prefix);
}

function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

function hostBitsZero(network: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < network.length * 8; bit++) {
    if ((network[bit >> 3]! >> (7 - (bit & 7))) & 1) return false;
  }
  return true;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    bytes[i] = Number(part);
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const words = head.length + tail.length;
  if (halves.length === 2 ? words > 7 : words !== 8) return null;
  const all = [...head, ...new Array<number>(8 - words).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

/** 16-bit groups of one side of `::`; a trailing dotted IPv4 counts as two groups. */
function groups(text: string): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (!v4) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
      words.push(Number.parseInt(part, 16));
    } else {
      return null;
    }
  }
  return words;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
