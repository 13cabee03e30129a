/**
 * What the detectors report. A finding is a half-open span [start, end) of UTF-16 code units in the
 * scanned text plus its type; it never carries the matched value, so findings (and anything built
 * from them: counts, summaries, audit events) are metadata only.
 */

/** Personal data: masked, the input may still go through. Order here is the order used in summaries. */
export const PERSONAL_DATA_TYPES = ['SSN', 'EMAIL', 'CREDIT_CARD', 'PHONE', 'IP_ADDRESS', 'IBAN'] as const;

/**
 * Secrets and credentials: the input is blocked. PASSWORD is a password or other secret found by its
 * place or name (a URL's user part, a Basic pair, `DB_PASSWORD=...`, `client_secret=...`,
 * `Authorization: Bearer ...`), not by a shape of its own.
 */
export const SECRET_TYPES = [
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'GITHUB_TOKEN',
  'SLACK_TOKEN',
  'STRIPE_KEY',
  'GOOGLE_API_KEY',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GITLAB_TOKEN',
  'HUGGINGFACE_TOKEN',
  'NPM_TOKEN',
  'JWT',
  'PRIVATE_KEY',
  'PASSWORD',
] as const;

export type PersonalDataType = (typeof PERSONAL_DATA_TYPES)[number];
export type SecretType = (typeof SECRET_TYPES)[number];
export type FindingType = PersonalDataType | SecretType;

/** Every finding type, in the stable order used for summaries and reports. */
export const FINDING_TYPES: readonly FindingType[] = [...PERSONAL_DATA_TYPES, ...SECRET_TYPES];

export interface Finding {
  type: FindingType;
  /** Index of the first code unit of the match. */
  start: number;
  /** Index one past the last code unit of the match. */
  end: number;
}

const secretSet: ReadonlySet<string> = new Set(SECRET_TYPES);
const typeSet: ReadonlySet<string> = new Set(FINDING_TYPES);

export function isSecretType(type: FindingType): type is SecretType {
  return secretSet.has(type);
}

export function isFindingType(value: string): value is FindingType {
  return typeSet.has(value);
}

/** Number of findings per type; types with no finding are absent (never 0). */
export function countByType(findings: readonly Finding[]): Partial<Record<FindingType, number>> {
  const counts: Partial<Record<FindingType, number>> = {};
  for (const f of findings) counts[f.type] = (counts[f.type] ?? 0) + 1;
  // Rebuild in the stable type order so serialised counts always list keys the same way.
  const ordered: Partial<Record<FindingType, number>> = {};
  for (const t of FINDING_TYPES) {
    const n = counts[t];
    if (n !== undefined) ordered[t] = n;
  }
  return ordered;
}
