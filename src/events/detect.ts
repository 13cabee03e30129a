/**
 * detect(): every detector over the text, then one non-overlapping, sorted list of findings.
 *
 * Overlaps are resolved per cluster of mutually overlapping candidates: the longer match wins (an
 * email containing digits beats a phone number inside it; an E.164 number beats the NANP number inside
 * it; a PEM block beats anything in its body), and on equal length the more specific type wins
 * (secrets first, then the order of SPECIFICITY below).
 */
import type { Finding, FindingType } from './findings.js';
import { detectCloudKeys } from './detectors/cloudKeys.js';
import { detectCreditCards } from './detectors/creditCard.js';
import { detectEmails } from './detectors/email.js';
import { detectIbans } from './detectors/iban.js';
import { detectIpAddresses } from './detectors/ip.js';
import { detectPhones } from './detectors/phone.js';
import { detectPrivateKeys } from './detectors/privateKey.js';
import { detectSsn } from './detectors/ssn.js';
import { detectTokens } from './detectors/tokens.js';
import type { Detector } from './detectors/common.js';

export { countByType } from './findings.js';
export type { Finding, FindingType } from './findings.js';

const DETECTORS: readonly Detector[] = [
  detectPrivateKeys,
  detectCloudKeys,
  detectTokens,
  detectIbans,
  detectCreditCards,
  detectSsn,
  detectEmails,
  detectPhones,
  detectIpAddresses,
];

/** Lower index = more specific, wins ties on equal length. */
const SPECIFICITY: readonly FindingType[] = [
  'PRIVATE_KEY',
  'AWS_SECRET_KEY',
  'AWS_ACCESS_KEY',
  'GITHUB_TOKEN',
  'SLACK_TOKEN',
  'STRIPE_KEY',
  'GOOGLE_API_KEY',
  'JWT',
  'IBAN',
  'CREDIT_CARD',
  'SSN',
  'EMAIL',
  'PHONE',
  'IP_ADDRESS',
];
const rank = new Map(SPECIFICITY.map((t, i) => [t, i]));

function better(a: Finding, b: Finding): number {
  const byLength = b.end - b.start - (a.end - a.start);
  if (byLength !== 0) return byLength;
  return (rank.get(a.type) ?? 99) - (rank.get(b.type) ?? 99);
}

function overlaps(a: Finding, b: Finding): boolean {
  return a.start < b.end && b.start < a.end;
}

function resolveCluster(cluster: Finding[], out: Finding[]): void {
  if (cluster.length === 1) {
    out.push(cluster[0] as Finding);
    return;
  }
  const chosen: Finding[] = [];
  for (const f of [...cluster].sort(better)) {
    if (!chosen.some((c) => overlaps(c, f))) chosen.push(f);
  }
  chosen.sort((a, b) => a.start - b.start);
  out.push(...chosen);
}

/** Resolves candidates from several detectors into a sorted list without overlaps. */
export function resolveOverlaps(candidates: readonly Finding[]): Finding[] {
  const sorted = candidates.filter((f) => f.end > f.start).sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  let cluster: Finding[] = [];
  let clusterEnd = -1;
  for (const f of sorted) {
    if (cluster.length > 0 && f.start >= clusterEnd) {
      resolveCluster(cluster, out);
      cluster = [];
    }
    cluster.push(f);
    clusterEnd = cluster.length === 1 ? f.end : Math.max(clusterEnd, f.end);
  }
  if (cluster.length > 0) resolveCluster(cluster, out);
  return out;
}

/** All sensitive values in `text`, sorted by position, never overlapping. */
export function detect(text: string): Finding[] {
  const candidates: Finding[] = [];
  for (const d of DETECTORS) {
    for (const f of d(text)) candidates.push(f);
  }
  return resolveOverlaps(candidates);
}
