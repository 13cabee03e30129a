import { describe, expect, it } from 'vitest';
import { detect } from './detect.js';
import { detectAndMask } from './mask.js';
import { normalizeForDetection } from './normalize.js';
import { guardActorId, guardAgentRecord } from './privacyGuard.js';
import { fill, found, typesIn } from '../../test/support/detection.js';

// Layers of escaping a value reaches a log with: a redirect parameter holding an already-encoded
// query (`%2540`), HTML escaped twice (`&amp;#64;`), numeric references without their `;` (which
// browsers decode), and programming languages' escapes (`\x40`, `\u{40}`). Each is read as the
// character it spells, and the mask covers the whole spelling as written.
describe('escapes in layers', () => {
  it.each([
    // Percent-encoding applied twice or three times.
    ['jane.doe%2540example.com', 'EMAIL'],
    ['jane.doe%252540example.com', 'EMAIL'],
    ['123%252D45%252D6789', 'SSN'],
    ['4111%25201111%25201111%25201111', 'CREDIT_CARD'],
    ['%252B1%2520415%2520555%25202671', 'PHONE'],
    ['jane%25EF%25BC%25A0example.com', 'EMAIL'],
    // Numeric references without the final ";": HTML decodes them (the digits run to the first
    // character that is not one).
    ['jane.doe&#64example.com', 'EMAIL'],
    ['jane&#x40mail.example.com', 'EMAIL'],
    ['123&#45 45&#x2D 6789', 'SSN'],
    // HTML escaped twice: "&amp;" followed by a reference.
    ['jane.doe&amp;#64;example.com', 'EMAIL'],
    ['jane.doe&amp;#x40;example.com', 'EMAIL'],
    ['jane.doe&amp;commat;example.com', 'EMAIL'],
    ['4111&amp;nbsp;1111&amp;nbsp;1111&amp;nbsp;1111', 'CREDIT_CARD'],
    ['123&amp;#45;45&amp;#45;6789', 'SSN'],
    // Programming languages' escapes: \xHH (C, Python, JavaScript, PHP), \u{H...} (JavaScript, Rust,
    // PHP, Swift), any depth of backslashes as JSON escapes are read.
    ['jane.doe\\x40example.com', 'EMAIL'],
    ['123\\x2d45\\x2D6789', 'SSN'],
    ['jane.doe\\u{40}example.com', 'EMAIL'],
    ['jane.doe\\\\u{0040}example.com', 'EMAIL'],
    ['4111\\u{a0}1111\\u{A0}1111\\u{a0}1111', 'CREDIT_CARD'],
    // UTF-8 bytes as a Python bytes repr writes them: the bytes of one character together.
    ['jane\\xef\\xbc\\xa0example.com', 'EMAIL'],
  ] as const)('finds %j as %s and masks all of it', (value, type) => {
    const text = `value ${value} end`;
    const fs = detect(text);
    expect(fs.map((f) => f.type)).toEqual([type]);
    expect(text.slice(fs[0]!.start, fs[0]!.end)).toBe(value);
  });

  it('masks the double-encoded redirect the hunt found, leaving no piece of the escape', () => {
    // How far before the address the mask reaches is the e-mail detector's reading of a URL; what
    // matters here is that nothing of the address, nor of its escape, is left.
    const { masked } = detectAndMask('Masked EMAIL in GET /login?next=%2Fprofile%3Femail%3Djane.doe%2540example.com');
    expect(masked).toMatch(/^Masked EMAIL in GET \S*\[EMAIL\]$/);
    expect(masked).not.toMatch(/jane|doe|example|%25|2540/);
    expect(detectAndMask('to jane.doe%2540example.com.').masked).toBe('to [EMAIL].');
    expect(detectAndMask('to jane.doe&amp;#64;example.com.').masked).toBe('to [EMAIL].');
    expect(detectAndMask('to jane.doe\\x40example.com.').masked).toBe('to [EMAIL].');
    expect(detectAndMask('ssn 123%252D45%252D6789;').masked).toBe('ssn [SSN];');
  });

  it('reads each layer as the character it finally spells, mapped to the whole escape', () => {
    const norm = normalizeForDetection('a%252540b');
    expect(norm.text).toBe('a@b');
    expect([norm.origStart![1], norm.origEnd![1]]).toEqual([1, 8]);
    expect(normalizeForDetection('a&amp;#64;b').text).toBe('a@b');
    expect(normalizeForDetection('a\\x40b\\u{40}c').text).toBe('a@b@c');
    expect(normalizeForDetection('a&#64b').text).toBe('a@b');
  });

  it('reads numeric references as HTML does: every digit belongs to the reference', () => {
    // "&#4545" is U+11C1 and "&#456789" U+6F855 to a browser, not "-45" and "-6789"; "&#x40e" is
    // U+040E, the "e" of "example" being a hex digit.
    expect(normalizeForDetection('&#4545').text).toBe('\u11c1');
    expect(typesIn('123&#4545&#456789')).toEqual([]);
    expect(normalizeForDetection('jane.doe&#x40example.com').text).toBe('jane.doe\u040example.com');
    expect(typesIn('jane.doe&#x40example.com')).toEqual([]);
  });

  it('reads no fourth percent layer, no third HTML layer, and leaves what only looks like an escape', () => {
    for (const text of [
      // Four layers: "%25252540" is "%40" after three decodings.
      'a%25252540example.com',
      // Three HTML layers.
      'a&amp;amp;#64;example.com',
      // "%25" before two hex digits that spell nothing alone stays a percent sign.
      '100%25ab',
      'jane%25BC%25A0example.com',
      // "\x" without two hex digits, "\u{" without its "}".
      'C:\\xampp\\htdocs',
      'a\\u{40example.com',
      // Octal, CSS and quoted-printable escapes are not read (see normalize.ts).
      'jane\\100example.com',
      'jane\\40 example.com',
      'jane=40example.com',
    ])
      expect(typesIn(text), text).toEqual([]);
    expect(normalizeForDetection('100%25ab').text).toBe('100%ab');
    expect(normalizeForDetection('?limit=40&offset=80').text).toBe('?limit=40&offset=80');
  });

  it('keeps what a single layer read before', () => {
    expect(found('jane&#64;example.com')).toEqual([['EMAIL', 'jane&#64;example.com']]);
    expect(found('alice%40example.com')).toEqual([['EMAIL', 'alice%40example.com']]);
    expect(normalizeForDetection('50%25 off').text).toBe('50% off');
    expect(normalizeForDetection('R&amp;D').text).toBe('R&D');
    expect(normalizeForDetection('a&amp;copy;b').text).toBe('a&copy;b');
  });
});

// A name written in a Turkish locale: "i".toUpperCase() there is "İ" (U+0130) and "I".toLowerCase()
// "ı" (U+0131), so a tool upper-casing "api_key" writes "APİ_KEY". NFKC leaves both letters, and the
// named-secret detector, which reads ASCII names, found no name.
describe('the Turkish dotted İ and dotless ı read as I and i', () => {
  it('folds each to its ASCII letter, one code unit for one, mapped to itself', () => {
    for (const [text, canonical] of [
      ['APİ_KEY=x', 'API_KEY=x'],
      ['apı_key', 'api_key'],
      ['PRİVATE_KEY ıİ', 'PRIVATE_KEY iI'],
      ['apı%C4%B1_key', 'apii_key'],
    ] as const) {
      const norm = normalizeForDetection(text);
      expect(norm.text, text).toBe(canonical);
    }
    const norm = normalizeForDetection('APİ_KEY=Zq8sK2vLp9Xm4Tn7Rw1Yb6Hc');
    // The same length, each unit from the same place: a finding after the name masks the same span.
    expect(norm.text.length).toBe('APİ_KEY=Zq8sK2vLp9Xm4Tn7Rw1Yb6Hc'.length);
    expect([norm.origStart![2], norm.origEnd![2]]).toEqual([2, 3]);
    expect([norm.origStart![8], norm.origEnd![8]]).toEqual([8, 9]);
  });

  it('finds the secret after the Turkish spelling of its name, and masks the value only', () => {
    const key = 'Zq8sK2vLp9Xm4Tn7Rw1Yb6Hc';
    for (const text of [`APİ_KEY=${key}`, `{"apı_key": "${key}"}`, `apıKey=${key}`, `PRİVATE_KEY=${key}`])
      expect(found(text), text).toEqual([['PASSWORD', key]]);
    expect(detectAndMask(`x APİ_KEY=${key} y`).masked).toBe('x APİ_KEY=[PASSWORD] y');
  });

  // The text as written (detectWrittenNamedPasswords: a value holding a percent escape or an escaped
  // quote, read whole) is read with the same fold: without it "APİ_KEY=...%20..." was accepted, and
  // "&APİ_KEY=...%26...&" masked up to the escape only, its tail left readable.
  it('reads a value holding an escape whole after the Turkish spelling, as after the ASCII one', () => {
    const guard = (summary: string) =>
      guardAgentRecord({ preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1.0', summary }).map((v) => v.message);
    for (const ascii of [
      'API_KEY=Zq8sK2vLp9Xm4Tn7Rw1Y%20b6Hc8Q',
      'GET /x?user=bob&API_KEY=Zq8sK2vLp9Xm4Tn7Rw1Y%26b6Hc8Q&y=1',
      'GET /x?user=bob&API_KEY=Zq8sK2vL%26p9Xm4Tn7Rw1Yb6Hc&y=1',
      'API_KEY="Zq8sK2vLp9Xm4Tn7Rw1Y\\" b6Hc8Q"',
      '{"api_key": "Zq8sK2vLp9Xm4Tn7Rw1Y\\"b6Hc8Q"}',
    ]) {
      const asciiFound = found(ascii);
      expect(asciiFound, ascii).not.toEqual([]);
      for (const turkish of [ascii.replace('API', 'APİ'), ascii.replace('api', 'apı')]) {
        if (turkish === ascii) continue;
        // The same spans (each letter one code unit for one), the same mask around the name as written.
        expect(found(turkish), turkish).toEqual(asciiFound);
        expect(detectAndMask(turkish).masked, turkish).toBe(detectAndMask(ascii).masked.replace('API', 'APİ').replace('api', 'apı'));
        expect(guard(turkish).length, turkish).toBe(guard(ascii).length);
        expect(guard(turkish).join(' '), turkish).toContain('PASSWORD');
      }
    }
    expect(detectAndMask('GET /x?user=bob&APİ_KEY=Zq8sK2vLp9Xm4Tn7Rw1Y%26b6Hc8Q&y=1').masked).toBe('GET /x?user=bob&APİ_KEY=[PASSWORD]&y=1');
  });

  it('leaves other dotted and dotless letters as they are', () => {
    expect(normalizeForDetection('ȷ ɟ ï').text).toBe('ȷ ɟ ï');
  });
});

describe('layers stay linear on adversarial 1 MiB inputs', () => {
  // Every look at an escape is bounded (three percent layers, two HTML ones, one UTF-8 sequence), or
  // consumes the digits it scans, so no position is scanned again and again.
  const adversarial: Record<string, string> = {
    'percent signs encoded over and over': `%${fill('25')}`,
    'percent layers one short': fill('%252'),
    'percent layers of lone UTF-8 bytes': fill('%2525E2%2525'),
    'escaped ampersands': `&${fill('amp;')}`,
    'escaped ampersands before references': fill('&amp;#'),
    'numeric references without digits': fill('&#'),
    'long numeric references': `&#${fill('0')}`,
    'long hex references': `&#x${fill('0')}1`,
    'references running into digits': fill('&#1'),
    'backslash x without digits': fill('\\x'),
    'backslash x lead bytes': fill('\\xe2\\\\'),
    'braced unicode escapes unclosed': `\\u{${fill('0')}`,
    'braced unicode escapes': fill('\\u{'),
  };
  it.each(Object.keys(adversarial))('%s completes, with findings in order inside the text', (name) => {
    const text = adversarial[name]!;
    const norm = normalizeForDetection(text);
    expect(norm.text.length).toBeLessThanOrEqual(text.length * 2);
    let end = 0;
    const misplaced = detect(text).filter((f) => {
      const bad = f.start < end || f.end <= f.start || f.end > text.length;
      end = f.end;
      return bad;
    });
    expect(misplaced).toEqual([]);
  });
});

// Unicode's tag characters (U+E0020..U+E007E) are an invisible copy of printable ASCII, and language
// models read them ("ASCII smuggling"); the ideographic variation selectors U+E0110..U+E016E spell
// the same bytes after any character ("emoji smuggling"). Dropped as invisible, an SSN or a key
// written in them passed the guard and preflight unmasked (two attacker reviews).
describe('text hidden in tag characters and variation selectors is read as the ASCII it spells', () => {
  const tags = (s: string) => [...s].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
  const selectors = (s: string) => [...s].map((c) => String.fromCodePoint(0xe0100 + c.charCodeAt(0) - 16)).join('');

  it.each([
    ['an SSN in tag characters', `My SSN is ${tags('123-45-6789')} ok`, 'SSN'],
    ['an AWS key in tag characters', `key ${tags('AKIAQYLPMN5HHHFPZAM2')}`, 'AWS_ACCESS_KEY'],
    ['an e-mail address in tag characters after an emoji', `🙂${tags('jane.doe@example.com')}`, 'EMAIL'],
    ['an SSN in variation selectors after an emoji', `🙂${selectors('123-45-6789')}`, 'SSN'],
  ])('%s: found, masked with nothing of it left, refused', (_, text, type) => {
    expect(typesIn(text)).toEqual([type]);
    const { masked } = detectAndMask(text);
    expect(masked).toContain(`[${type}]`);
    expect([...masked].filter((c) => (c.codePointAt(0) ?? 0) >= 0xe0000)).toEqual([]);
    expect(guardAgentRecord({ preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1', summary: text })).not.toEqual([]);
  });

  // A review of the first fix, which spelled them out only: one slipped inside a value then broke it.
  it.each([
    ['an SSN', `SSN 123-45-67${tags('A')}89`, 'SSN'],
    ['an SSN, a variation selector inside', `SSN 123-45-67${selectors('A')}89`, 'SSN'],
    ['a card number', `card 4111${tags('A')}111111111111`, 'CREDIT_CARD'],
    ['an IP address', `from 10.1.${tags('A')}2.3`, 'IP_ADDRESS'],
    ['a password', `pass${tags('x')}word=kQ7vX2mZ9pLr4TbN8wYc`, 'PASSWORD'],
    ['an e-mail address', `jane.doe@exa${tags(' ')}mple.com`, 'EMAIL'],
  ])('one inside %s is read as dropped too: found whole', (_, text, type) => {
    expect(typesIn(text)).toEqual([type]);
    expect(guardAgentRecord({ preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1', summary: text })).not.toEqual([]);
  });

  // A second review's: an address read with the hidden characters dropped was scanned in its parts,
  // where the spelled-out reading never went.
  it.each([
    ['an SSN inside an address', `jane${tags('123-45-6789')}@example.com`, 'SSN'],
    ['an SSN after an address', `jane@example.com${tags(' 123-45-6789')}`, 'SSN'],
    ['a card number inside an address', `jane${tags('.4111111111111111')}@example.com`, 'CREDIT_CARD'],
  ])('actor_id: %s is refused', (_, actorId, type) => {
    expect(
      guardActorId(actorId)
        .map((v) => v.message)
        .join(' '),
    ).toContain(type);
  });

  it('keeps ordinary uses as written: a subdivision flag, an emoji presentation selector, a CJK variant', () => {
    for (const text of ['🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f} Scotland office', 'Deploy ⚠\ufe0f blocked', '葛\u{e0100}城 branch']) {
      expect(typesIn(text), text).toEqual([]);
      expect(detectAndMask(text).masked).toBe(text);
    }
  });
});
