import { describe, expect, it } from 'vitest';
import { detectAndMask } from '../mask.js';
import { detectCloudKeys } from './cloudKeys.js';
import { detectTokens } from './tokens.js';
import { MiB, fill, found } from '../../../test/support/detection.js';

// A JWT as an identity provider issues one: RS256 header with a key id, a payload naming a person, and
// a 256-byte signature (from a fixed seed, so every run sees the same token).
const HEADER = Buffer.from('{"alg":"RS256","typ":"JWT","kid":"k1"}').toString('base64url');
const PAYLOAD = Buffer.from('{"sub":"8f2c1a","email":"jane.doe@example.com","name":"Jane Doe","iat":1747300000,"exp":1747303600}').toString('base64url');
function seededBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}
const SIGNATURE = seededBytes(256, 42).toString('base64url');
const JWT = `${HEADER}.${PAYLOAD}.${SIGNATURE}`;

/** The token hard-wrapped at `width` characters, the lines joined by `brk`. */
function wrap(token: string, width: number, brk: string): string {
  const lines: string[] = [];
  for (let i = 0; i < token.length; i += width) lines.push(token.slice(i, i + width));
  return lines.join(brk);
}

const GITHUB = 'ghp_Pl4ntedT0kenAbCdEfGhIjKlMnOpQrStUvWx';
const STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';

// Every way a line break reaches an audit event's text: as a space (a hard wrap pasted into one line),
// written (LF, CRLF, the Unicode line separator, NEL) or escaped as a JSON string writes it.
const BREAKS: ReadonlyArray<readonly [string, string]> = [
  ['a space', ' '],
  ['an escaped \\n', '\\n'],
  ['an escaped \\r\\n', '\\r\\n'],
  ['a newline', '\n'],
  ['CRLF', '\r\n'],
  ['a newline and indentation', '\n    '],
  ['U+2028', '\u2028'],
  ['NEL', '\u0085'],
  ['a tab', '\t'],
];

describe('a JWT broken across lines', () => {
  it.each(BREAKS)('is found whole when hard-wrapped at 64 with %s', (_name, brk) => {
    const token = wrap(JWT, 64, brk);
    const text = `Blocked JWT in Authorization: Bearer ${token}`;
    expect(found(text)).toEqual([['JWT', token]]);
    expect(detectAndMask(text).masked).toBe('Blocked JWT in Authorization: Bearer [JWT]');
  });

  it.each(BREAKS)('is found whole when split after its dots with %s', (_name, brk) => {
    const token = `${HEADER}.${brk}${PAYLOAD}.${brk}${SIGNATURE}`;
    expect(found(`token ${token} (expired)`)).toEqual([['JWT', token]]);
  });

  it('is found whole when split after its dots however short a segment', () => {
    const small = `eyJhbGciOiJIUzI1NiJ9.\neyJzdWIiOjF9.\ndozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`;
    expect(found(`token ${small}`)).toEqual([['JWT', small]]);
  });

  it('is found whole when the break stands before a dot', () => {
    const token = `${HEADER}\n.${PAYLOAD}\n.${SIGNATURE}`;
    expect(found(`token ${token}`)).toEqual([['JWT', token]]);
  });

  it('is found by the token detector over the text as written, as the privacy guard runs it', () => {
    for (const [, brk] of BREAKS) {
      const token = wrap(JWT, 64, brk);
      const text = `Bearer ${token}`;
      const f = detectTokens(text).filter((x) => x.type === 'JWT');
      expect(f.map((x) => text.slice(x.start, x.end))).toEqual([token]);
    }
  });

  it('does not swallow the sentence after a wrapped token', () => {
    const token = wrap(JWT, 64, '\n');
    expect(found(`Bearer ${token} was revoked.`)).toEqual([['JWT', token]]);
    expect(found(`Bearer ${token}. Rotate it now`)).toEqual([['JWT', token]]);
  });

  it('does not swallow the sentence after a complete token', () => {
    expect(found(`Bearer ${JWT} was revoked at noon`)).toEqual([['JWT', JWT]]);
    expect(found(`Bearer ${JWT}\nwas revoked at noon`)).toEqual([['JWT', JWT]]);
  });

  it('reads no header prefix in prose as a JWT', () => {
    expect(found('eyJhbGciOi is a header prefix')).toEqual([]);
    expect(found('JWTs start with eyJ and the payload with eyJ too. see docs')).toEqual([]);
    expect(found(`the header is ${HEADER}. the payload is eyJzdWIi and more`)).toEqual([]);
    // Header and payload without a signature: unsigned, no credential.
    expect(found(`${HEADER}.\n${PAYLOAD}.\nsig`)).toEqual([]);
  });
});

describe('a GitHub token broken across lines', () => {
  it.each(BREAKS)('is found whole when its body is split by %s', (_name, brk) => {
    const token = `${GITHUB.slice(0, 20)}${brk}${GITHUB.slice(20)}`;
    const text = `Blocked GitHub token ${token}`;
    expect(found(text)).toEqual([['GITHUB_TOKEN', token]]);
    expect(detectAndMask(text).masked).toBe('Blocked GitHub token [GITHUB_TOKEN]');
    expect(detectTokens(text).map((f) => text.slice(f.start, f.end))).toEqual([token]);
  });

  it('is found whole in three pieces, and right after its prefix', () => {
    const three = `${GITHUB.slice(0, 12)}\n${GITHUB.slice(12, 30)}\n${GITHUB.slice(30)}`;
    expect(found(`t ${three}.`)).toEqual([['GITHUB_TOKEN', three]]);
    const afterPrefix = `ghp_\n${GITHUB.slice(4)}`;
    expect(found(`t ${afterPrefix}`)).toEqual([['GITHUB_TOKEN', afterPrefix]]);
  });

  it('does not swallow the sentence after a complete token', () => {
    expect(found(`${GITHUB} was revoked`)).toEqual([['GITHUB_TOKEN', GITHUB]]);
    expect(found(`${GITHUB}\nwas revoked by Jane Doe`)).toEqual([['GITHUB_TOKEN', GITHUB]]);
  });

  it('joins no prose after a short prefix', () => {
    expect(found('ghp_short and then a few more words follow in this sentence here and there')).toEqual([]);
    expect(found('tokens look like ghp_ followed by thirty six letters and digits in all')).toEqual([]);
    expect(found('ghp_short and pk_live_aaaaaaaaaaaaaaaaaaaaaaaa and xoxz-1234567890 and sk_live_short')).toEqual([]);
    // Short pieces, as words are: only a wrap's last line is shorter than a line.
    expect(found('ghp_Pl4ntedT Ab12 Cd34 Ef56 Gh78 Ij90 Kl12 Mn34')).toEqual([]);
    expect(found('sk_test_a1 B2c3 D4e5 F6g7 H8i9 J0k1')).toEqual([]);
    // Pieces that add up to more than a token, or fewer.
    expect(found(`${GITHUB.slice(0, 20)} ${GITHUB.slice(20)}x9`)).toEqual([]);
    expect(found(`${GITHUB.slice(0, 20)} ${GITHUB.slice(20, 39)}`)).toEqual([]);
  });
});

describe('a Stripe key or an AWS access key id broken across lines', () => {
  it.each([
    ['a newline', '\n'],
    ['an escaped \\n', '\\n'],
    ['CRLF', '\r\n'],
  ])('is found whole with %s', (_name, brk) => {
    const stripe = `${STRIPE.slice(0, 15)}${brk}${STRIPE.slice(15)}`;
    expect(found(`Blocked ${stripe}`)).toEqual([['STRIPE_KEY', stripe]]);
    expect(detectAndMask(`Blocked ${stripe}`).masked).toBe('Blocked [STRIPE_KEY]');
    expect(detectTokens(`Blocked ${stripe}`).map((f) => f.start)).toEqual([8]);
    const aws = `${AWS_ID.slice(0, 10)}${brk}${AWS_ID.slice(10)}`;
    expect(found(`Blocked ${aws}`)).toEqual([['AWS_ACCESS_KEY', aws]]);
    expect(detectAndMask(`Blocked ${aws}`).masked).toBe('Blocked [AWS_ACCESS_KEY]');
    const raw = detectCloudKeys(`Blocked ${aws}`).map((f) => `Blocked ${aws}`.slice(f.start, f.end));
    expect(raw).toEqual([aws]);
  });

  it('does not swallow the words after a wrapped Stripe key', () => {
    const stripe = `${STRIPE.slice(0, 15)}\n${STRIPE.slice(15)}`;
    expect(found(`${stripe} was revoked`)).toEqual([['STRIPE_KEY', stripe]]);
  });

  it('joins no prose after a prefix', () => {
    expect(found('sk_live_ keys are secret and must never be pasted anywhere at all')).toEqual([]);
    expect(found('rk_test_ABC DEF GHI JKL MNO PQR')).toEqual([]);
    expect(found('ASIAN MARKETS Q3 REPORT')).toEqual([]);
    expect(found('ASIA\nPACIFIC SALES 2024 Q3')).toEqual([]);
    expect(found('AKIA\nIOSFODNN\nEXAMPLE')).toEqual([]);
    // A region and a number: an id's 16 hold letters as well as digits.
    expect(found('Region ASIA\n1234567890123456 units')).toEqual([]);
    expect(found('Region  ASIA  1234567890123456  units')).toEqual([]);
    expect(found('REGION: ASIA\n4111111111111111')).toEqual([['CREDIT_CARD', '4111111111111111']]);
    // Too many characters for an id.
    expect(found(`${AWS_ID.slice(0, 10)}\n${AWS_ID.slice(10)}7`)).toEqual([]);
  });
});

describe('linear time on adversarial 1 MiB inputs', () => {
  it.each([
    ['header prefixes and spaces', fill('eyJ ')],
    ['header prefixes and line breaks', fill('eyJhbGciOi\n')],
    ['dotted prefixes', fill('eyJa.eyJb. ')],
    ['dotted prefixes without a signature', fill('eyJa.\neyJb.\n')],
    ['header pieces', `eyJ ${fill('aB3 ')}`],
    ['GitHub prefixes', fill('ghp_ ')],
    ['GitHub pieces', fill('ghp_aB3 ')],
    ['GitHub pieces one short', fill(`ghp_${'aB3d'.repeat(4)} ${'aB3d'.repeat(4)} `)],
    ['Stripe prefixes and pieces', fill('sk_live_aB3 cD4 ')],
    ['AWS prefixes and line breaks', fill('AKIA1\n')],
    ['escaped breaks', fill('eyJa\\n')],
  ])('%s complete, finding no wrapped token', (_name, text) => {
    for (const f of detectAndMask(text).findings) expect(['JWT', 'GITHUB_TOKEN', 'STRIPE_KEY', 'AWS_ACCESS_KEY']).not.toContain(f.type);
    expect(text.length).toBeGreaterThanOrEqual(MiB);
  });
});
