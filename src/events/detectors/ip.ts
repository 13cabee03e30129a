/**
 * IP addresses: dotted-quad IPv4 with every octet in 0-255 and no leading zeros, and IPv6 in any
 * textual form node:net accepts (compressed "::", embedded IPv4 tail, the short forms "::1" and
 * "fe80::", with a CIDR prefix length "fe80::/10" included), also right after a label and a colon
 * ("addr:fe80::1", "ip6:2001:db8::/32"). Version strings glued to more dotted numbers ("1.2.3.4.5")
 * or written right after their name ("Chrome/120.0.0.0", "Version=13.0.0.0"), times ("10:33:21"),
 * C++ scopes ("std::vector", "db::add") and hardware identifiers of eight octets are not addresses.
 *
 * Host names that spell their address count too (see HOST_LABEL_IPV4_RE, IPV6_LITERAL_RE): AWS's
 * "ip-10-1-2-3.ec2.internal" and "ec2-54-12-34-56.compute-1.amazonaws.com", Windows'
 * "2001-db8--1.ipv6-literal.net". The finding is the address part ("ip-[IP_ADDRESS].ec2.internal"):
 * the prefix says nothing about anyone, and keeping it keeps a masked log line readable.
 */
import { isIPv6 } from 'node:net';
import type { Finding } from '../findings.js';
import { isDigit, isWordChar, regexFindings, wordAfter, wordBefore } from './common.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/**
 * An octet zero-padded to three digits ("001"), as fixed-width tables and some firewalls and
 * appliances print every octet ("192.168.001.010"). Only when all four are so written: a quad mixing
 * padded and plain numbers ("1.02.003.4") is a version, and "2024.001.002.003" a date or a build.
 */
const PADDED_OCTET = '(?:25[0-5]|2[0-4]\\d|[01]\\d\\d)';
/**
 * The dotted quads read as addresses: plain octets, or all four zero-padded (one regex per form).
 * An underscore before one is read by wordBefore (Markdown's emphasis, "_10.0.0.5_", is no glue).
 */
const quadOf = (octet: string) => new RegExp(`(?<![A-Za-z0-9.])(?:${octet}\\.){3}${octet}`, 'g');
const IPV4_RE = quadOf(OCTET);
const PADDED_IPV4_RE = quadOf(PADDED_OCTET);
/**
 * A DNS label that is an IPv4 address with "-" for ".": "ip-" (AWS's private DNS names, also a
 * Kubernetes node's name there) or "ec2-" (its public DNS names), any case, then four octets. The
 * prefix is what makes a dashed run an address: "1-2-3-4" alone is a version or a date, and is never
 * read. The label starts after anything but a letter or digit ("svc@ip-...", "pflt_ip-...", the
 * guard's identifier form "pflt ip-...") and ends at ".", any other character that is no letter or
 * digit, or the end; a fifth dashed number ("ip-10-1-2-3-4") makes it something else. Bounded
 * quantifiers and a look-behind on one character: linear (common.ts).
 */
const HOST_LABEL_IPV4_RE = new RegExp(`(?<![A-Za-z0-9])(?:ip|ec2)-(${OCTET}(?:-${OCTET}){3})(?![A-Za-z0-9]|-\\d)`, 'dgi');
/**
 * An internet provider's name for a customer's line, its address with "-" for ".": Comcast's
 * "c-73-202-15-4.hsd1.ca.comcast.net", Verizon's "pool-...", Spectrum's "cpe-...", and "host-",
 * "static-", "dhcp-", "dsl-" and the like (a review found a client's address in one passed). Words
 * that are a line's kind, and a domain after the label: "host-1-2-3-4" alone may be a build's name.
 */
const PROVIDER_LINE = [
  'c',
  'host',
  'static',
  'pool',
  'cpe',
  'dhcp',
  'dsl',
  'adsl',
  'vdsl',
  'ppp',
  'dyn',
  'dynamic',
  'customer',
  'client',
  'broadband',
  'cable',
  'user',
  'ip4',
  'ipv4',
];
const PROVIDER_LABEL_IPV4_RE = new RegExp(`(?<![A-Za-z0-9])(?:${PROVIDER_LINE.join('|')})-(${OCTET}(?:-${OCTET}){3})(?=\\.[A-Za-z])`, 'dgi');
/**
 * Windows' IPv6 literal host name (a UNC path cannot hold ":"): the address with "-" for ":" and "s"
 * for the zone's "%", then ".ipv6-literal.net" ("2001-db8--1.ipv6-literal.net", "fe80--1s4.ipv6-literal.net").
 * The run starts where no letter, digit or "-" stands before it, and is at most 45 characters (an
 * address of 39 and a zone), so each start costs a bounded look.
 */
const IPV6_LITERAL_RE = /(?<![0-9A-Za-z-])([0-9A-Fa-f-]{2,39})(s\d{1,5})?(?=\.ipv6-literal\.net(?![0-9A-Za-z-]))/gi;
/** Any dotted quad, as the first half of a version range ("0.0.0.0-13.0.0.0"). */
const LOOSE_QUAD = '\\d{1,3}(?:\\.\\d{1,3}){3}';

/**
 * What, written right before a dotted quad, makes it a version number (one alternative a line):
 * - a product token of a user agent, "Chrome/120.0.0.0", "Edg/120.0.0.0" (Chrome's reduced user agent
 *   zeroes all but the major version, so every modern Chrome line hits): a capitalized name holding a
 *   lower-case letter, standing alone after a space, "(" or ";", and a quad of that shape, its last
 *   three numbers 0 (PRODUCT_VERSION). Not Java's host names ("localhost/127.0.0.1",
 *   "DESKTOP-7K3L2M/10.0.0.5", and a host typed capitalized, "Mailhost/10.0.0.25"), resolver lists
 *   ("Cloudflare/1.1.1.1"), a URL's path ("/api/hosts/10.0.0.1") or Squid's hierarchy codes
 *   ("HIER_DIRECT/10.0.0.1");
 * - a name ending in "version" and "=", ":", "(" or ">", quoted or not: .NET's assembly names and
 *   binding redirects ("Version=13.0.0.0", oldVersion="0.0.0.0-13.0.0.0", AssemblyVersion("1.0.0.0"),
 *   <FileVersion>1.0.0.0</FileVersion>), manifests ("version": "1.0.0.0"). "version" starts a word or is
 *   capitalized (camel case), so "conversion" is no such name;
 * - a brand's version in Chrome's client hints (Sec-CH-UA-Full-Version-List: "Not_A Brand";v="8.0.0.0");
 * - the word version or requirement (a standard's numbering: PCI DSS's "requirement 10.2.1.4"), or
 *   OID, right before the quad with blanks only between.
 * The second quad of a range counts as the first does.
 */
const PRODUCT_TOKEN = '(?<![^\\s(;])[A-Z][A-Z0-9]{0,31}[a-z][A-Za-z0-9]{0,31}/';
/** A reduced user agent's version: the major version, then zeros. */
const PRODUCT_VERSION = /^\d{1,3}\.0\.0\.0$/;
const PRODUCT_BEFORE_RE = new RegExp(`(?<=${PRODUCT_TOKEN})`, 'y');
const VERSION_CONTEXTS = [
  `(?:Version|(?<![A-Za-z])(?:version|VERSION))["']?[ \\t]{0,16}[=:(>][ \\t]{0,3}["']?`,
  '";v="',
  // The word itself, then blanks: prose's "version 1.0.0.0", a standard's "requirement 10.2.1.4", an
  // "OID 1.3.6.1" (a review's summaries were refused as addresses). Not "section": a firewall's
  // rulebase has sections, and "section 10.20.30.40" may be a host (a second review).
  `(?<![A-Za-z])(?:[Vv]ersion|VERSION|[Rr]equirement|REQUIREMENT|OID)[ \\t]{1,3}`,
];
const VERSION_BEFORE_RE = new RegExp(`(?<=(?:${VERSION_CONTEXTS.join('|')})(?:${LOOSE_QUAD}-)?)`, 'y');

// One greedy character class and nothing after it: never backtracks. A run starts where a word
// does, or right after a label's colon ("addr:fe80::1", "ip6:2001:db8::/32"): a colon after a word
// character the run did not take (see labelEnd), followed by a group or a "::".
// An underscore before a run is read by wordBefore, as for IPv4.
const IPV6_CANDIDATE_RE = /(?:(?<![0-9A-Za-z:.])|(?<=[0-9A-Za-z_]:)(?=[0-9A-Fa-f]|::))[0-9A-Fa-f:.]{2,}/g;
/** Longest IPv6 group, in hex digits. */
const MAX_GROUP = 4;
/** Hex-letter words joined by "::" (a scope, see looksLikeAnotherThing). */
const SCOPE_RE = /^[A-Fa-f]+(?:::[A-Fa-f]+)+$/;
/** A hardware identifier as colon-separated octets: a WWN or an EUI-64 ("50:06:01:60:3b:20:12:34"). */
const EIGHT_OCTETS_RE = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){7}$/;

/**
 * A dotted quad right after a version's name (VERSION_CONTEXTS). An address with its port
 * ("MyHost/10.0.0.1:8080", as Java prints a socket address) is never a version.
 */
function isVersionNumber(text: string, start: number, end: number): boolean {
  if (text[end] === ':' && isDigit(text[end + 1])) return false;
  VERSION_BEFORE_RE.lastIndex = start;
  if (VERSION_BEFORE_RE.test(text)) return true;
  if (!PRODUCT_VERSION.test(text.slice(start, end))) return false;
  PRODUCT_BEFORE_RE.lastIndex = start;
  return PRODUCT_BEFORE_RE.test(text);
}

/**
 * The unspecified address and the limited broadcast address: they name no host, so no person
 * ("allow 0.0.0.0/0", "listen 0.0.0.0:8080" are in every firewall rule and server log).
 */
const NO_HOST = new Set(['0.0.0.0', '255.255.255.255']);

/** What a padded quad holds: a plain search before its regex, whose look-behind walks the text. */
const MAY_BE_PADDED = /\d{3}\.\d{3}\.\d{3}\.\d{3}/;

function detectIpv4(text: string): Finding[] {
  const accept = (start: number, end: number): boolean => {
    // (A padded quad pads a number other than 0, PADDED_NUMBER, so it is never one of these.)
    if (NO_HOST.has(text.slice(start, end))) return false;
    if (wordBefore(text, start) || wordAfter(text, end)) return false;
    if (text[end] === '.' && isDigit(text[end + 1])) return false;
    return !isVersionNumber(text, start, end);
  };
  const plain = regexFindings(text, IPV4_RE, 'IP_ADDRESS', accept);
  if (!MAY_BE_PADDED.test(text)) return plain;
  // The padded form holds a padded number ("001", "010"): an amount written with dots for thousands
  // ("Rp 150.000.000.000") is four three-digit groups too, but of none.
  const padded = regexFindings(text, PADDED_IPV4_RE, 'IP_ADDRESS', (start, end) => PADDED_NUMBER.test(text.slice(start, end)) && accept(start, end));
  return [...plain, ...padded];
}

/** An octet of the padded form that pads a number other than 0 ("001" to "099"). */
const PADDED_NUMBER = /(?:^|\.)0(?:0[1-9]|[1-9]\d)(?:\.|$)/;

/** A CIDR prefix length right after an IPv6 address ("/10" in "fe80::/10"): its length, or 0. */
function prefixLength(text: string, at: number): number {
  if (text[at] !== '/') return 0;
  let k = at + 1;
  while (k < text.length && k - at <= 3 && isDigit(text[k])) k++;
  if (k === at + 1 || isWordChar(text[k]) || Number(text.slice(at + 1, k)) > 128) return 0;
  return k - at;
}

function isGroup(word: string): boolean {
  return word.length >= 1 && word.length <= MAX_GROUP && /^[0-9A-Fa-f]+$/.test(word);
}

/**
 * Where a run's address starts after a label glued to it by one colon ("added:2001:db8::1"): the
 * label is a word no address group can be (longer than four hex digits, or holding a dot). A word
 * that could be a group ("cafe:2001:db8::1") stays part of the run. Runs the regex starts after a
 * label's colon need no such step: the word before that colon holds a letter beyond "f" or an "_",
 * or the run would have started at it.
 */
function labelEnd(run: string): number {
  const colon = run.indexOf(':');
  if (colon <= 0 || run[colon + 1] === ':' || isGroup(run.slice(0, colon))) return 0;
  return colon + 1;
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

/**
 * Text shaped like an address that is something else:
 * - hex-letter words joined by "::" and by no single colon, a C++ or Rust scope ("db::add", "Ab::Cd",
 *   "ace::face"): an address with a group before its "::" holds a digit (2001:db8::, fe80::, ff02::1,
 *   fd00::) or a single colon (the netmask "ffff:ffff::"). A prefix length still makes it a range;
 * - eight groups of exactly two hex digits, a WWN or EUI-64: as an address its first group would be
 *   at most 0xff, inside ::/8, which IANA reserves and whose few used addresses are written
 *   compressed ("::1", "::ffff:10.0.0.1"); uncompressed addresses either start with a group of four
 *   (2001:..., fe80:...) or drop leading zeros ("0:0:0:0:0:0:0:1", as Java prints loopback).
 */
function looksLikeAnotherThing(candidate: string, hasPrefix: boolean): boolean {
  if (!hasPrefix && SCOPE_RE.test(candidate)) return true;
  return EIGHT_OCTETS_RE.test(candidate);
}

function detectIpv6(text: string): Finding[] {
  const out: Finding[] = [];
  IPV6_CANDIDATE_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IPV6_CANDIDATE_RE.exec(text)) !== null) {
    const runEnd = m.index + m[0].length;
    if (m[0].length > 64 || wordAfter(text, runEnd)) continue;
    if (text[m.index - 1] === '_' && wordBefore(text, m.index)) continue;
    const skip = labelEnd(m[0]);
    const start = m.index + skip;
    let candidate = m[0].slice(skip);
    const prefix = prefixLength(text, runEnd);
    // Sentence punctuation after an address: "... from fe80::1." or "host 2001:db8::1:".
    if (prefix === 0) while (candidate.endsWith('.') || (candidate.endsWith(':') && !candidate.endsWith('::'))) candidate = candidate.slice(0, -1);
    if (!candidate.includes(':') || !enoughStructure(candidate, prefix > 0) || looksLikeAnotherThing(candidate, prefix > 0)) continue;
    if (isIPv6(candidate)) out.push({ type: 'IP_ADDRESS', start, end: start + candidate.length + prefix });
  }
  return out;
}

/** Addresses spelled as host names (HOST_LABEL_IPV4_RE, IPV6_LITERAL_RE): the address part, with its zone. */
function detectHostNameAddresses(text: string): Finding[] {
  // Both spell the address with "-": most fields the privacy guard reads have none, and skip both scans.
  if (!text.includes('-')) return [];
  const v4 = [...regexFindings(text, HOST_LABEL_IPV4_RE, 'IP_ADDRESS'), ...regexFindings(text, PROVIDER_LABEL_IPV4_RE, 'IP_ADDRESS')];
  const v6 = IPV6_LITERAL_NAME.test(text)
    ? regexFindings(text, IPV6_LITERAL_RE, 'IP_ADDRESS', (_start, _end, m) => isIPv6((m[1] as string).replace(/-/g, ':')))
    : [];
  return [...v4, ...v6];
}

/** The domain of Windows' IPv6 literal names, looked for once before the scan for their addresses. */
const IPV6_LITERAL_NAME = /\.ipv6-literal\.net/i;

export function detectIpAddresses(text: string): Finding[] {
  return [...detectIpv4(text), ...detectIpv6(text), ...detectHostNameAddresses(text)];
}
