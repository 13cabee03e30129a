import { describe, expect, it } from 'vitest';
import { base64Fragments, REDACTED, secretScrubber } from './scrubSecrets.js';
import { leakedForm } from '../../test/support/secretForms.js';

// Base64 wrapped into lines whose breaks are spelled in an encoding (scrubSecrets.test.ts has them as
// they stand, and JSON-escaped once): percent-encoded (an echo in a URL or a form), an HTML character
// reference (an XML attribute or an HTML page holds its line breaks so), a JSON unicode escape, JSON
// in JSON. Each spelling with the base64's own `+` and `/` as the same encoder writes them.

/** A base64 bearer token with `/`, `+` and padding, as in scrubSecrets.test.ts. */
const token = 'sk/Zq+7vWd/e3+Kp9Lm/Xy+T0kEn/4Aa+Bb==';
const bearer = `Bearer ${token}`;
/** A Basic pair long enough that its own base64 (80 characters) is wrapped at 76 and at 64. */
const pair = 'svc-siem-ingest-7:Vq3#nL8$wZ2!pK5^rT9&xM4*hB6(jD1)yF0%cG2';
const credential = Buffer.from(pair).toString('base64');
const basic = `Basic ${credential}`;

const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');
const same = (s: string) => s;

/** A break spelling, and how the text around it writes base64's `+` and `/` (each way one is written). */
const SPELLINGS: Record<string, { br: string; escapes: Array<(s: string) => string> }> = {
  urlLf: { br: '%0A', escapes: [same, encodeURIComponent] },
  urlCrlf: { br: '%0D%0A', escapes: [same, encodeURIComponent] },
  urlLfLower: { br: '%0a', escapes: [same, (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())] },
  urlCrlfLower: { br: '%0d%0a', escapes: [same, encodeURIComponent] },
  urlTwice: { br: '%250D%250A', escapes: [same, (s) => encodeURIComponent(encodeURIComponent(s))] },
  htmlLf: { br: '&#10;', escapes: [same, (s) => s.replace(/[+/]/g, (c) => `&#x${hex(c).toUpperCase()};`)] },
  htmlCrlf: { br: '&#13;&#10;', escapes: [same, (s) => s.replace(/[+/]/g, (c) => `&#${c.charCodeAt(0)};`)] },
  htmlHex: { br: '&#xA;', escapes: [same] },
  htmlHexPadded: { br: '&#x0a;', escapes: [same, (s) => s.replace(/\//g, '&sol;').replace(/\+/g, '&plus;')] },
  htmlNamed: { br: '&NewLine;', escapes: [same] },
  htmlTwice: { br: '&amp;#13;&amp;#10;', escapes: [same, (s) => s.replace(/[+/]/g, (c) => `&amp;#${c.charCodeAt(0)};`)] },
  unicodeLf: { br: '\\u000a', escapes: [same, (s) => s.replace(/\//g, '\\/')] },
  unicodeCrlf: { br: '\\u000d\\u000a', escapes: [same, (s) => s.replace(/[+/]/g, (c) => `\\u00${hex(c)}`)] },
  unicodeUpper: { br: '\\u000A', escapes: [same, (s) => s.replace(/[+/]/g, (c) => `\\u00${hex(c).toUpperCase()}`)] },
  unicodeCrlfUpper: { br: '\\u000D\\u000A', escapes: [same] },
  // JSON in JSON: a backslash of the inner text is two in the outer, so the inner `\/` is `\\\/`.
  doubleLf: { br: '\\\\n', escapes: [same, (s) => s.replace(/\//g, '\\\\\\/')] },
  doubleCrlf: { br: '\\\\r\\\\n', escapes: [same, (s) => s.replace(/\//g, '\\\\/')] },
  // A blank line between the lines (an echo that doubles its line endings), and indentation spelled
  // as its break is (a folded header echoed in a URL, an XML attribute, JSON).
  blankLf: { br: '\n\n', escapes: [same] },
  blankCrlf: { br: '\r\n\r\n', escapes: [same] },
  blankIndented: { br: '\n  \n  ', escapes: [same] },
  twoBlank: { br: '\n\n\n', escapes: [same] },
  jsonBlankIndented: { br: '\\n  \\n  ', escapes: [same, (s) => s.replace(/\//g, '\\/')] },
  urlBlank: { br: '%0A%0A', escapes: [same, encodeURIComponent] },
  urlFolded: { br: '%0D%0A%20', escapes: [same, encodeURIComponent] },
  urlTabs: { br: '%0D%0A%09%09', escapes: [same] },
  htmlIndent: { br: '&#10;&#32;&#32;', escapes: [same] },
  htmlTab: { br: '&NewLine;&Tab;', escapes: [same] },
  unicodeIndent: { br: '\\u000A\\u0020', escapes: [same] },
  jsonTab: { br: '\\n\\t', escapes: [same, (s) => s.replace(/\//g, '\\/')] },
};

/**
 * Each width with one of the ways to write `+` and `/`: both widths and both ways are read, at half
 * the cost of every pair.
 */
const variants = (escapes: Array<(s: string) => string>) => [76, 64].map((width, w) => ({ width, escape: escapes[(w + 1) % escapes.length]! }));

/** `base64` in lines of `width` characters, each written with `escape`, joined by `br`. */
const wrap = (base64: string, br: string, escape: (s: string) => string = same, width = 76) =>
  base64
    .match(new RegExp(`.{1,${width}}`, 'g'))!
    .map(escape)
    .join(br);

/**
 * `out` decoded and its line breaks removed, written without the scrubber's code: every spelling
 * these tests use, read back to base64.
 */
const unwrapped = (out: string) =>
  out
    .replace(/%25/gi, '%')
    .replace(/%25/gi, '%')
    .replace(/&amp;/gi, '&')
    .replace(/%0d|%0a|&#13;|&#10;|&#x0?d;|&#x0?a;|&newline;|\\u000d|\\u000a|\\+r|\\+n|[\r\n]/gi, '')
    .replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&sol;/gi, '/')
    .replace(/&plus;/gi, '+')
    .replace(/&tab;/gi, '\t')
    .replace(/\\u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\+\//g, '/');

/**
 * Eight characters in a row of the base64 of any part of `secret` (the middle of it at each byte
 * offset: what does not depend on what surrounds it) still in `out`, its breaks removed; or a form
 * leakedForm finds. Null when none is.
 */
const leaks = (out: string, secret: string) => {
  const joined = unwrapped(out);
  const parts = secret === basic ? [basic, credential, pair, pair.slice(pair.indexOf(':') + 1)] : [secret, token];
  for (const part of parts) {
    for (let k = 0; k < 3; k++) {
      const middle = Buffer.from(`${'x'.repeat(k)}${part}`)
        .toString('base64')
        .slice(4, -4);
      for (let at = 0; at + 8 <= middle.length; at++) if (joined.includes(middle.slice(at, at + 8))) return middle.slice(at, at + 8);
    }
  }
  // The Basic credential is base64 itself: its own middle is what an echo of it shows.
  if (secret === basic)
    for (let at = 4; at + 8 <= credential.length - 4; at++) if (joined.includes(credential.slice(at, at + 8))) return credential.slice(at, at + 8);
  return leakedForm(joined, secret);
};

describe('secretScrubber, wrapped base64 whose line breaks are spelled in an encoding', () => {
  const scrubs = { bearer: secretScrubber([bearer]), basic: secretScrubber([basic]) };
  const secrets = { bearer, basic };

  for (const [name, { br, escapes }] of Object.entries(SPELLINGS)) {
    it(`the echoed request's base64, wrapped at 76 and at 64 with ${name} (${br}), loses the credential`, () => {
      for (const [who, secret] of Object.entries(secrets) as Array<[keyof typeof scrubs, string]>) {
        const scrub = scrubs[who];
        for (const { width, escape } of variants(escapes)) {
          // Padding the request before the header moves the wrap through every position of the credential.
          for (let pad = 0; pad < width + 4; pad++) {
            const request = `POST /hook HTTP/1.1\r\nHost: siem.example.com\r\nX-Pad: ${'p'.repeat(pad)}\r\nAuthorization: ${secret}\r\nContent-Type: application/json\r\n\r\n`;
            const body = `echo=${wrap(Buffer.from(request).toString('base64'), br, escape, width)}&done=1`;
            const out = scrub(body);
            const where = `${who} width ${width} pad ${pad}: ${out}`;
            expect(leaks(out, secret), where).toBeNull();
            expect(out, where).toContain(REDACTED);
            // What is left of the echo still reads: the base64 before the header, and what follows it.
            expect(out.startsWith(body.slice(0, 24)), where).toBe(true);
            expect(out.endsWith('&done=1'), where).toBe(true);
          }
        }
      }
    });

    it(`the Basic credential's own base64, wrapped at 76 and at 64 with ${name} (${br}), goes`, () => {
      for (const { width, escape } of variants(escapes)) {
        // Base64 before it moves the break through every position of the credential.
        for (let pad = 0; pad <= width; pad++) {
          const body = `<pre>${wrap(`${'Q'.repeat(pad)}${credential}`, br, escape, width)}</pre>`;
          const out = scrubs.basic(body);
          expect(leaks(out, basic), `width ${width} pad ${pad}: ${out}`).toBeNull();
          expect(out, `width ${width} pad ${pad}`).toContain(REDACTED);
        }
      }
    });
  }

  it('one range from the first character of the fragment to its last, the breaks within included', () => {
    const scrub = scrubs.bearer;
    for (const fragment of base64Fragments(token)) {
      for (const { br } of Object.values(SPELLINGS)) {
        for (const at of [1, fragment.length >> 1, fragment.length - 1]) {
          expect(scrub(`echo: xy${fragment.slice(0, at)}${br}${fragment.slice(at)}z done`), `${br} at ${at}`).toBe(`echo: xy${REDACTED}z done`);
        }
      }
    }
  });

  it('a break glues nothing to the secret: ordinary text across a break from it stays', () => {
    const scrub = scrubs.bearer;
    const fragment = base64Fragments(token)[0]!;
    for (const { br } of Object.values(SPELLINGS)) {
      // The fragment whole between two breaks: it goes, the text on either side stays.
      expect(scrub(`next=abc${br}${fragment}${br}def&x=1`), br).toBe(`next=abc${br}${REDACTED}${br}def&x=1`);
      // Half of it across a break from other base64 is no secret.
      const half = `q=${fragment.slice(0, fragment.length >> 1)}${br}QmFzZTY0IG5vdCBzZWNyZXQ&n=1`;
      expect(scrub(half), br).toBe(half);
      const otherHalf = `q=QmFzZTY0IG5vdCBzZWNyZXQ${br}${fragment.slice(fragment.length >> 1)}&n=1`;
      expect(scrub(otherHalf), br).toBe(otherHalf);
    }
  });

  it('a cut answer that ends inside the wrapped base64, or inside a break, loses that end too', () => {
    const scrub = scrubs.bearer;
    // And the longest spelling read, CRLF as references escaped thrice with every zero they may have,
    // indented as far as is read: a cut after it is read back over all of it.
    const longest = { br: `&amp;amp;amp;#x000000D;&amp;amp;amp;#00000010;${' '.repeat(16)}`, escapes: [same] };
    for (const [name, { br, escapes }] of [...Object.entries(SPELLINGS), ['longest', longest] as const]) {
      for (const escape of escapes) {
        // Short lines: more breaks within the token's base64 than a cut text's last escapes looked behind.
        const echoed = wrap(Buffer.from(`Authorization: ${bearer}\r\n`).toString('base64'), br, escape, 10);
        // From the fourth character of the token's base64 on: every cut, inside a break or an escape too.
        const start = echoed.indexOf('QmVh') + 4;
        const last = echoed.length - 3 * br.length - 12;
        for (let cut = start; cut < last; cut++) {
          const out = scrub(`x ${echoed.slice(0, cut)}`, true);
          expect(out, `${name} cut at ${cut}: ${out}`).toMatch(/\[redacted\]$/);
          expect(leaks(out, bearer), `${name} cut at ${cut}: ${out}`).toBeNull();
        }
      }
    }
  });

  it('ordinary text with these line breaks, and other base64 wrapped with them, stays as it is', () => {
    const other = Buffer.from('nothing secret in here, only a long enough text to be wrapped twice over at least').toString('base64');
    const texts = [
      'https://siem.example.com/search?q=first%20line%0Asecond%0D%0Athird&next=abc%0adef%0d%0aghi%250Ajkl',
      '<textarea>first line&#10;second&#13;&#10;third&#xA;fourth&#x0a;fifth&NewLine;sixth</textarea>',
      '{"error":"line one\\u000aline two\\u000d\\u000aline three\\u000Afour"}',
      JSON.stringify({ body: JSON.stringify({ error: 'first\nsecond\r\nthird', path: 'a/b' }) }),
      ...Object.values(SPELLINGS).flatMap(({ br, escapes }) => escapes.map((escape) => wrap(other, br, escape, 20))),
    ];
    for (const scrub of Object.values(scrubs)) {
      for (const text of texts) {
        expect(scrub(text), text).toBe(text);
        expect(scrub(text, true), text).toBe(text);
      }
    }
  });

  // Linear, not timed: a quadratic path takes minutes on these and meets the test's ceiling.
  it('64 KiB of short base64 runs between encoded breaks: the token spelled across them goes, the rest stays', () => {
    const scrub = scrubs.bearer;
    const fragment = base64Fragments(token)[0]!;
    for (const { br } of Object.values(SPELLINGS)) {
      const noise = `ab${br}c${br}`.repeat(Math.ceil(65_536 / (3 + 2 * br.length)));
      expect(scrub(noise), br).toBe(noise);
      expect(scrub(noise, true), br).toBe(noise);
      // The token's base64, one character per line, over and over: nothing of it is left.
      const spelled = [...fragment].join(br);
      const text = `${spelled}${br}`.repeat(Math.ceil(65_536 / (spelled.length + br.length)));
      const out = scrub(text);
      expect(leaks(out, bearer), br).toBeNull();
      // Indentation is no base64: what is left of it between the redactions is not counted.
      expect(
        unwrapped(out)
          .replaceAll(REDACTED, '')
          .replace(/[ \t]|\\t/g, '').length,
        br,
      ).toBeLessThan(fragment.length);
    }
    // Long runs of what a break is spelled with, each after a base64 character: none is a break.
    for (const text of [
      `A${'\\'.repeat(65_536)}nB`,
      `A%${'25'.repeat(32_768)}0AB`,
      `A&${'amp;'.repeat(16_384)}#10;B`,
      `A&#${'0'.repeat(65_536)}10;B`,
      `A&#x${'0'.repeat(65_536)}a;B`,
      `A${'\\\\u000'.repeat(10_000)}aB`,
      'A;&amp;&#10'.repeat(6_000),
      'A%0D%0D%0'.repeat(7_000),
      `A${'%0A'.repeat(21_000)}B`,
    ]) {
      expect(scrub(text), text.slice(0, 12)).toBe(text);
      expect(scrub(text, true), text.slice(0, 12)).toBe(text);
    }
    // Every character a break, joined: the text read without them holds no secret, and stays.
    const joinedAll = 'Ab%0A'.repeat(13_000);
    expect(scrub(joinedAll)).toBe(joinedAll);
  });
});
