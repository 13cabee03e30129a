/**
 * IP addresses: dotted-quad IPv4 with every octet in 0-255 and no leading zeros, and IPv6 in any
 * textual form node:net accepts (compressed "::", embedded IPv4 tail). Version strings glued to more
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

function detectIpv6(text: string): Finding[] {
  const out: Finding[] = [];
  IPV6_CANDIDATE_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IPV6_CANDIDATE_RE.exec(text)) !== null) {
    const start = m.index;
    const runEnd = start + m[0].length;
    if (m[0].length > 64 || isWordChar(text[runEnd])) continue;
    let candidate = m[0];
    // Sentence punctuation after an address: "... from fe80::1." or "host 2001:db8::1:".
    while (candidate.endsWith('.') || (candidate.endsWith(':') && !candidate.endsWith('::'))) candidate = candidate.slice(0, -1);
    // At least two non-empty groups (or an IPv4 tail): "A::" or "::" in prose is not worth a finding.
    const groups = candidate.split(':').filter((g) => g !== '').length;
    if (!candidate.includes(':') || groups < 2) continue;
    if (isIPv6(candidate)) out.push({ type: 'IP_ADDRESS', start, end: start + candidate.length });
  }
  return out;
}

export function detectIpAddresses(text: string): Finding[] {
  return [...detectIpv4(text), ...detectIpv6(text)];
}
