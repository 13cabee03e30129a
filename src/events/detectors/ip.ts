/**
 * IP addresses: dotted-quad IPv4 with every octet in 0-255 and no leading zeros, and IPv6 in any
 * textual form node:net accepts (compressed "::", embedded IPv4 tail, the short forms "::1" and
 * "fe80::", with a CIDR prefix length "fe80::/10" included). Version strings glued to more
 * dotted numbers ("1.2.3.4.5") and times ("10:33:21") are not addresses.
 */
import { isIPv6 } from 'node:net';
import type { Finding } from '../findings.js';
import { isDigit, isWordChar, regexFindings } from './common.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}`, 'g');
// One greedy character class and nothing after it: never backtracks.
const IPV6_CANDIDATE_RE = /(?<![0-9A-Za-z_:.])[0-9A-Fa-f:.]{2,}/g;

function detectIpv4(text: string): Finding[] {
  return regexFindings(text, IPV4_RE, 'IP_ADDRESS', (_start, end) => {
    const next = text[end];
    if (isWordChar(next)) return false;
    if (next === '.' && isDigit(text[end + 1])) return false;
    return true;
  });
}

/** A CIDR prefix length right after an IPv6 address ("/10" in "fe80::/10"): its length, or 0. */
function prefixLength(text: string, at: number): number {
  if (text[at] !== '/') return 0;
  let k = at + 1;
  while (k < text.length && k - at <= 3 && isDigit(text[k])) k++;
  if (k === at + 1 || isWordChar(text[k]) || Number(text.slice(at + 1, k)) > 128) return 0;
  return k - at;
}

/**
 * Enough structure to be an address rather than prose: two non-empty groups (or an IPv4 tail), or one
 * of the short forms "::1" (a group after "::"), "fe80::" (a group with a digit before "::") and
 * "fe80::/10" (any group before "::" with a prefix length). "A::" or "::" alone is not worth a finding.
 */
function enoughStructure(candidate: string, hasPrefix: boolean): boolean {
  const groups = candidate.split(':').filter((g) => g !== '');
  if (groups.length >= 2) return true;
  if (groups.length !== 1) return false;
  if (candidate.startsWith('::')) return true;
  return candidate.endsWith('::') && (hasPrefix || /\d/.test(candidate));
}

function detectIpv6(text: string): Finding[] {
  const out: Finding[] = [];
  IPV6_CANDIDATE_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IPV6_CANDIDATE_RE.exec(text)) !== null) {
    const start = m.index;
    const runEnd = start + m[0].length;
    if (m[0].length > 64 || isWordChar(text[runEnd])) continue;
    let candidate = m[0];
    const prefix = prefixLength(text, runEnd);
    // Sentence punctuation after an address: "... from fe80::1." or "host 2001:db8::1:".
    if (prefix === 0) while (candidate.endsWith('.') || (candidate.endsWith(':') && !candidate.endsWith('::'))) candidate = candidate.slice(0, -1);
    if (!candidate.includes(':') || !enoughStructure(candidate, prefix > 0)) continue;
    if (isIPv6(candidate)) out.push({ type: 'IP_ADDRESS', start, end: start + candidate.length + prefix });
  }
  return out;
}

export function detectIpAddresses(text: string): Finding[] {
  return [...detectIpv4(text), ...detectIpv6(text)];
}
