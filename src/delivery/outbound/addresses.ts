// Which IP addresses outbound deliveries may never reach (unless local destinations are allowed).
// Used twice: on IP literals in a destination URL, and at connect time on every address DNS returned.
import { isIP } from 'node:net';

export type ForbiddenReason =
  | 'invalid'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'metadata'
  | 'documentation'
  | 'benchmarking'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'unique-local'
  | 'site-local'
  | 'nat64-local';

interface V4Range {
  base: number;
  bits: number;
  reason: ForbiddenReason;
}

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

// Order matters: the most specific entries come first (metadata before link-local, broadcast before 240/4).
const V4_RANGES: readonly V4Range[] = [
  { base: v4(169, 254, 169, 254), bits: 32, reason: 'metadata' },
  { base: v4(255, 255, 255, 255), bits: 32, reason: 'broadcast' },
  { base: v4(0, 0, 0, 0), bits: 8, reason: 'unspecified' },
  { base: v4(10, 0, 0, 0), bits: 8, reason: 'private' },
  { base: v4(100, 64, 0, 0), bits: 10, reason: 'cgnat' },
  { base: v4(127, 0, 0, 0), bits: 8, reason: 'loopback' },
  { base: v4(169, 254, 0, 0), bits: 16, reason: 'link-local' },
  { base: v4(172, 16, 0, 0), bits: 12, reason: 'private' },
  { base: v4(192, 0, 0, 0), bits: 24, reason: 'reserved' },
  { base: v4(192, 0, 2, 0), bits: 24, reason: 'documentation' },
  { base: v4(192, 88, 99, 0), bits: 24, reason: 'reserved' },
  { base: v4(192, 168, 0, 0), bits: 16, reason: 'private' },
  { base: v4(198, 18, 0, 0), bits: 15, reason: 'benchmarking' },
  { base: v4(198, 51, 100, 0), bits: 24, reason: 'documentation' },
  { base: v4(203, 0, 113, 0), bits: 24, reason: 'documentation' },
  { base: v4(224, 0, 0, 0), bits: 4, reason: 'multicast' },
  { base: v4(240, 0, 0, 0), bits: 4, reason: 'reserved' },
];

function inV4Range(value: number, range: V4Range): boolean {
  const mask = range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0;
  return (value & mask) >>> 0 === range.base;
}

function parseV4(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value >>> 0;
}

function checkV4(value: number): ForbiddenReason | null {
  for (const range of V4_RANGES) {
    if (inV4Range(value, range)) return range.reason;
  }
  return null;
}

/** Parses an IPv6 address (zone id already stripped) into eight 16-bit groups. */
function parseV6(ip: string): number[] | null {
  let text = ip;
  // A trailing dotted IPv4 (::ffff:127.0.0.1) stands for the last two groups: rewrite it in hex.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    const embedded = parseV4(text.slice(lastColon + 1));
    if (embedded === null) return null;
    text = `${text.slice(0, lastColon + 1)}${(embedded >>> 16).toString(16)}:${(embedded & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? '');
  if (head === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const rest = parseGroups(halves[1] ?? '');
  if (rest === null) return null;
  const fill = 8 - head.length - rest.length;
  if (fill < 1) return null;
  return [...head, ...new Array<number>(fill).fill(0), ...rest];
}

function embeddedV4(hi: number, lo: number): number {
  return ((hi << 16) | lo) >>> 0;
}

function checkV6(g: number[]): ForbiddenReason | null {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0 && g6 === 0 && g7 === 0) return 'unspecified';
  if (firstFiveZero && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback';
  // IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96: the embedded IPv4 decides.
  if (firstFiveZero && (g5 === 0xffff || g5 === 0)) return checkV4(embeddedV4(g6, g7));
  // IPv4-translated ::ffff:0:0:0/96 (SIIT).
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) {
    return checkV4(embeddedV4(g6, g7));
  }
  // NAT64 well-known prefix 64:ff9b::/96.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return checkV4(embeddedV4(g6, g7));
  }
  // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215): local by definition, wherever the IPv4 sits.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return checkV4(embeddedV4(g6, g7)) ?? 'nat64-local';
  // 6to4 2002::/16: the IPv4 sits in groups 1-2.
  if (g0 === 0x2002) return checkV4(embeddedV4(g1, g2));
  // Teredo 2001::/32: server IPv4 in groups 2-3, client IPv4 obfuscated (inverted) in groups 6-7.
  if (g0 === 0x2001 && g1 === 0) {
    return checkV4(embeddedV4(g2, g3)) ?? checkV4(~embeddedV4(g6, g7) >>> 0);
  }
  // AWS instance metadata over IPv6.
  if (g0 === 0xfd00 && g1 === 0x0ec2 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 0x254) {
    return 'metadata';
  }
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'site-local';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'documentation';
  if (g0 === 0x3fff && (g1 & 0xf000) === 0) return 'documentation';
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved';
  // Everything routable on the public internet lives in 2000::/3; the rest is reserved or special-purpose.
  if ((g0 & 0xe000) !== 0x2000) return 'reserved';
  return null;
}

/**
 * Why an IP address must not be reached by an outbound delivery, or null when it is a public address.
 * Accepts dotted IPv4, IPv6 (with or without brackets or a zone id) including IPv4-embedding forms.
 * Anything that is not an IP address gives 'invalid'.
 */
export function isForbiddenAddress(ip: string): ForbiddenReason | null {
  let text = ip.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  const hadZone = zone >= 0;
  if (hadZone) text = text.slice(0, zone);
  const family = isIP(text);
  if (family === 4) {
    if (hadZone) return 'invalid';
    const value = parseV4(text);
    return value === null ? 'invalid' : checkV4(value);
  }
  if (family === 6) {
    const groups = parseV6(text);
    if (groups === null) return 'invalid';
    return checkV6(groups);
  }
  return 'invalid';
}

/** The address as a 32-bit number when it is dotted IPv4 (exported for tests and callers). */
export function ipv4ToNumber(ip: string): number | null {
  return isIP(ip) === 4 ? parseV4(ip) : null;
}
