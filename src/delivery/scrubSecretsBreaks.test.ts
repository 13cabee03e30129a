import { createHash } from 'node:crypto';
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

// A secret echoed as written, but wrapped into lines: a receiver printing the request headers it saw
// folds a long value (a 2 KB Sentinel access token, a 300-character bearer token) at 64 or 76
// columns, or narrower, with CRLF, LF, a folded header's indented continuation, or JSON's `\n` inside
// a JSON string. Each line is shorter than half the secret, so no piece of it is long enough to go.
describe('secretScrubber, a secret as written, wrapped into lines', () => {
  /** A JWT-like token: random base64url segments joined by `.`, with `-` and `_` (breaks fall after any of them). */
  const jwtLike = (length: number, seed: string) => {
    let out = '';
    for (let i = 0; out.length < length; i++) out += createHash('sha256').update(`${seed}-${i}`).digest('base64url');
    const chars = [...out.slice(0, length)];
    for (let at = 36; at < length - 1; at += 97) chars[at] = '.';
    return chars.join('');
  };
  const long = jwtLike(300, 'custom-webhook');
  const sentinel = jwtLike(2048, 'sentinel-oauth2');
  const short84 = jwtLike(84, 'eighty-four');
  const BREAKS: Record<string, string> = {
    lf: '\n',
    crlf: '\r\n',
    folded: '\r\n ',
    foldedTab: '\n\t',
    jsonLf: '\\n',
    jsonCrlf: '\\r\\n',
    jsonInJson: '\\\\n',
    urlCrlf: '%0D%0A',
    htmlLf: '&#10;',
  };
  /** `text` in lines of `width` characters joined by `br`. */
  const fold = (text: string, br: string, width: number) => text.match(new RegExp(`.{1,${width}}`, 'gs'))!.join(br);
  /**
   * Eight characters in a row of `token` left in `out` once every spelling of a break these tests
   * use is taken out: written without the scrubber's code.
   */
  const leaks = (out: string, token: string): string | null => {
    const joined = out.replace(/%0D|%0A|&#10;|\\+r|\\+n|[\r\n\t ]/gi, '');
    for (let at = 0; at + 8 <= token.length; at++) if (joined.includes(token.slice(at, at + 8))) return token.slice(at, at + 8);
    return leakedForm(joined, `Bearer ${token}`);
  };

  for (const [name, token] of Object.entries({ long, sentinel, short84 })) {
    const scrub = secretScrubber([`Bearer ${token}`]);
    it(`a ${token.length}-character bearer token echoed folded at any width (${name}) goes whole`, () => {
      for (const [brName, br] of Object.entries(BREAKS)) {
        for (const width of [76, 64, 40, 17, 8, 1]) {
          // The header name before it on the first line moves the breaks through the token.
          for (const lead of ['', 'authorization: ', 'Authorization: x']) {
            const value = fold(`${lead}Bearer ${token}`, br, width);
            const bodies = [
              `Bad request. Headers seen:\n${value}\n`,
              `Bad request. Headers seen:\r\n${value}\r\n`,
              JSON.stringify({ error: 'bad header', seen: 'x' }).replace('"x"', `"${value}"`),
            ];
            for (const body of bodies) {
              const out = scrub(body);
              const where = `${brName} width ${width} lead ${JSON.stringify(lead)}: ${out.slice(0, 200)}`;
              expect(leaks(out, token), where).toBeNull();
              expect(out, where).toContain(REDACTED);
              expect(out.startsWith(body.slice(0, 12)), where).toBe(true);
            }
          }
        }
      }
    });
  }

  it('the attacker review: 400 text/plain quoting the folded header, and its last_error with newlines as spaces', () => {
    const scrub = secretScrubber([`Bearer ${long}`]);
    const body = `Bad request. Headers seen:\nauthorization: ${fold(`Bearer ${long}`, '\n', 64)}\n`;
    expect(scrub(body)).toBe(`Bad request. Headers seen:\nauthorization: ${REDACTED}\n`);
    // last_error is written from the scrubbed answer, its newlines as spaces: nothing to find there.
    expect(scrub(body).replace(/\n/g, ' ')).toBe(`Bad request. Headers seen: authorization: ${REDACTED} `);
    const narrow = secretScrubber([`Bearer ${short84}`]);
    expect(narrow(`authorization: ${fold(`Bearer ${short84}`, '\n', 40)}\n`)).toBe(`authorization: ${REDACTED}\n`);
    // The scheme word before the token goes with it: the whole header value is a form.
    expect(narrow(`authorization: Bearer ${fold(short84, '\r\n ', 40)}\r\n`)).toBe(`authorization: ${REDACTED}\r\n`);
    expect(narrow(`{"seen":"Bearer ${fold(short84, '\\r\\n', 40)}"}`)).toBe(`{"seen":"${REDACTED}"}`);
    expect(narrow(`token ${fold(short84, '\r\n ', 40)}\r\n`)).toBe(`token ${REDACTED}\r\n`);
  });

  it('the token redacted from its first character to its last, the breaks inside included; the text around stays', () => {
    const scrub = secretScrubber([`Bearer ${long}`]);
    for (const br of Object.values(BREAKS)) {
      for (const at of [1, 36, 37, 150, 299]) {
        const echoed = `${long.slice(0, at)}${br}${long.slice(at)}`;
        expect(scrub(`before${br}token ${echoed}${br}after`), `${br} at ${at}`).toBe(`before${br}token ${REDACTED}${br}after`);
      }
    }
  });

  it('a password with punctuation broken anywhere, a form in another spelling broken, and the decomposed spelling', () => {
    const pair = 'svc-audit:Pa55w.rd,{"long"}-enough!';
    const scrub = secretScrubber([`Basic ${Buffer.from(pair).toString('base64')}`]);
    const password = pair.slice(pair.indexOf(':') + 1);
    for (let at = 1; at < password.length; at++) {
      expect(scrub(`bad password ${password.slice(0, at)}\n${password.slice(at)} end`), `at ${at}`).toBe(`bad password ${REDACTED} end`);
    }
    // Percent-encoded, broken by an encoded break.
    const encoded = encodeURIComponent(password);
    for (const at of [8, 11]) expect(scrub(`?pw=${encoded.slice(0, at)}%0D%0A${encoded.slice(at)}&x=1`), `at ${at}`).toBe(`?pw=${REDACTED}&x=1`);
  });

  it('a cut answer that ends inside the wrapped token loses that end too', () => {
    const scrub = secretScrubber([`Bearer ${long}`]);
    for (const br of Object.values(BREAKS)) {
      const echoed = `authorization: ${fold(`Bearer ${long}`, br, 64)}`;
      const line = 64 + br.length;
      for (const cut of [40, 15 + line + 10, 15 + 2 * line + 3, echoed.length - 5]) {
        const out = scrub(echoed.slice(0, cut), true);
        expect(out, `${br} cut at ${cut}: ${out}`).toMatch(/\[redacted\]$/);
        expect(leaks(out, long), `${br} cut at ${cut}`).toBeNull();
      }
      // Cut inside a break, or just after it.
      const first = echoed.indexOf(br, 20);
      for (let k = 1; k <= br.length; k++) {
        const out = scrub(echoed.slice(0, first + k), true);
        expect(out, `${br} cut ${k} into the break: ${out}`).toMatch(/\[redacted\]$/);
        expect(leaks(out, long), `${br} cut ${k} into the break`).toBeNull();
      }
    }
  });

  it('ordinary answers of many lines stay as they are, short words and common ones too', () => {
    const scrubs = [
      secretScrubber([`Bearer ${long}`]),
      secretScrubber([`Basic ${Buffer.from('bob:hunter2').toString('base64')}`]),
      secretScrubber(['Splunk 0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff']),
    ];
    const other = jwtLike(300, 'someone else');
    const texts = [
      `Bad request. Headers seen:\nauthorization: ${fold(`Bearer ${other}`, '\n', 64)}\ncontent-type: application/json\n`,
      JSON.stringify({ error: { code: 400, message: 'Invalid token', details: ['header', 'Bearer', 'Basic'] } }, null, 2),
      '<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
      'Error: request failed\n    at send (/srv/app/hook.js:12:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n',
      '{"error":"line one\\nline two\\r\\nthe hun\\nter of a break\\nBearer\\ntoken"}',
      'the hun\nter 2, the Bear\ner, the Ba\nsic, the Spl\nunk 0f6c1a2e-\n1234, end',
    ];
    for (const scrub of scrubs) {
      for (const text of texts) {
        expect(scrub(text), text.slice(0, 40)).toBe(text);
        expect(scrub(text, true), text.slice(0, 40)).toBe(text);
      }
    }
  });

  // Linear, not timed: a quadratic path takes minutes on these and meets the test's ceiling.
  // One test per spelling of a break (a few seconds of scrubbing each on a busy machine), so none of
  // them comes near the per-test ceiling.
  const MiB = 1 << 20;
  const fill = (unit: string) => unit.repeat(Math.ceil(MiB / unit.length));
  it.each(['\n', '\r\n ', '\\n', '\\\\n', '%0D%0A', '&#10;'])(
    '1 MiB of adversarial text wrapped with %j: the token spelled across breaks goes, the rest stays',
    (br) => {
      const scrub = secretScrubber([`Bearer ${sentinel}`, `Bearer ${long}`]);
      // The token one character per line, over and over: none of it is left.
      const spelled = fill(`${[...long].join(br)}${br}`);
      const out = scrub(spelled);
      expect(leaks(out, long), br).toBeNull();
      // Nearly the token (every hundredth character changed, so no piece of half of it is there
      // either), one character per line: the matchers get far into it at every repetition, and
      // nothing goes.
      const nearly = [...long].map((c, i) => (i % 100 === 50 ? (c === 'A' ? 'B' : 'A') : c));
      const near = fill(`${nearly.join(br)}${br}`);
      expect(scrub(near), br).toBe(near);
      expect(scrub(near, true), br).toBe(near);
      // Breaks after every character of ordinary text, runs of breaks, indentation longer than is read.
      const noise = fill(`a${br}.${br}-${br}ab${br}${br}${br}${br}cx${br}${' '.repeat(40)}`);
      expect(scrub(noise), br).toBe(noise);
      expect(scrub(noise, true), br).toBe(noise);
    },
  );

  it('1 MiB of what breaks are spelled with, and of decomposed text: nothing goes', () => {
    const scrub = secretScrubber([`Bearer ${sentinel}`, `Bearer ${long}`]);
    // Long runs of what a break is spelled with after ordinary characters: none is a break. And
    // decomposed text (every character composed with its mark), and one run of marks a megabyte long
    // in two alternating classes (ICU sorts such a run by insertion: a 64 KiB one cost it 2 s).
    for (const text of [
      `a${'\\'.repeat(MiB)}nb`,
      `a${' '.repeat(MiB)}\nb`,
      `a${'\r'.repeat(MiB)}\nb`,
      fill('a\r\r\n\n\n\n '),
      fill('.%0'),
      fill('.&#1'),
      fill('o\u0308'),
      `a${'\u0308\u0327'.repeat(MiB >> 1)}`,
    ]) {
      expect(scrub(text), text.slice(0, 12)).toBe(text);
      expect(scrub(text, true), text.slice(0, 12)).toBe(text);
    }
  });
});
