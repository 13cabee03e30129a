import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { base64Fragments, cutSecretTail, occurrences, pieceForms, REDACTED, secretForms, secretParts, secretScrubber } from './scrubSecrets.js';
import { echoedForms, leakedForm } from '../../test/support/secretForms.js';

/** A base64 bearer token with `/`, `+` and padding: every escape and wrap has something to do. */
const token = 'sk/Zq+7vWd/e3+Kp9Lm/Xy+T0kEn/4Aa+Bb==';

/** Every start of `form` in `text`, overlapping ones too, by indexOf: what the matchers are held to. */
const indexesOf = (text: string, form: string): number[] => {
  const out: number[] = [];
  for (let at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1)) out.push(at);
  return out;
};

describe('secretScrubber (a SIEM that echoes request headers)', () => {
  const bearer = 'Bearer ab/cd+ef/0123456789+XYZ==';
  const elasticKey = Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').toString('base64');
  const elastic = `ApiKey ${elasticKey}`;
  const splunkToken = '0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff';
  const splunk = `Splunk ${splunkToken}`;
  /** A character's code as two hex digits, as escapes spell it. */
  const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');
  const signing = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==';

  for (const secret of [bearer, elastic, splunk, signing]) {
    it(`removes every echoed spelling of ${secret.split(' ')[0]}`, () => {
      const scrub = secretScrubber([secret]);
      for (const [name, echoed] of Object.entries(echoedForms(secret))) {
        const out = scrub(`{"echo":"${echoed}","n":1}`);
        expect(leakedForm(out, secret), `${name}: ${out}`).toBeNull();
        expect(out, name).toContain(REDACTED);
      }
    });
  }

  // A header value that is itself a list of name=value pairs: Azure's SharedAccessSignature (the
  // signature percent-encoded in it), a key=value credential. A receiver names the one pair it
  // refused, decoded: neither the whole value nor a half of it is in its answer.
  it('removes one pair of a structured header value, echoed alone, decoded or as written', () => {
    const sig = 'SmC/fUvB5IV0TPfo0IYFJHUvyhzkIzG+fEOf0jBD8VE=';
    const sas = `SharedAccessSignature sr=https%3A%2F%2Fmyns.servicebus.windows.net%2Fmyhub&sig=${encodeURIComponent(sig)}&se=1900000000&skn=RootManageSharedAccessKey`;
    const scrubSas = secretScrubber([sas]);
    for (const echoed of [sig, sig.replace(/=+$/, ''), encodeURIComponent(sig)]) {
      const out = scrubSas(`{"error":{"code":"InvalidSignature","message":"The signature ${echoed} is not valid for this resource."}}`);
      expect(out).not.toContain(sig.slice(0, 12));
      expect(out).toContain(`The signature ${REDACTED} is not valid`);
    }
    const keyed = secretScrubber(['id=tenant-12345678;key=9f8e7d6c5b4a39281706']);
    expect(keyed('{"message":"unknown key 9f8e7d6c5b4a39281706 for tenant"}')).toBe(`{"message":"unknown key ${REDACTED} for tenant"}`);
    expect(secretScrubber(['a=1;key="9f8e7d6c5b4a39281706", b=2'])('key 9f8e7d6c5b4a39281706')).toBe(`key ${REDACTED}`);
    // Short values of such a list (an expiry's digits, a version) are no secret on their own.
    expect(keyed('HTTP 400 at 1900000000 v=1 tenant')).toBe('HTTP 400 at 1900000000 v=1 tenant');
    // A review's: the SAS's other pairs say nothing secret and stay readable; a short value named as a
    // secret goes, and a quoted value is read whole, its separators in it.
    expect(scrubSas('token expired at 1900000000')).toBe('token expired at 1900000000');
    // An SDK writes a SAS's expiry as a date, its colons percent-encoded.
    expect(secretScrubber([`se=2026-01-01T00%3A00%3A00Z&sig=${encodeURIComponent(sig)}`])('SAS expired at 2026-01-01T00:00:00Z')).toBe(
      'SAS expired at 2026-01-01T00:00:00Z',
    );
    expect(scrubSas('SAS key name RootManageSharedAccessKey lacks Send claim')).toBe('SAS key name RootManageSharedAccessKey lacks Send claim');
    expect(scrubSas('getaddrinfo ENOTFOUND myns.servicebus.windows.net')).toBe('getaddrinfo ENOTFOUND myns.servicebus.windows.net');
    expect(secretScrubber(['user=bob;pwd=Sh0rt!'])('value Sh0rt! refused')).toBe(`value ${REDACTED} refused`);
    // A second review's: a random value under a plain name, and a first word of letters before more
    // words of letters, are still parts.
    const S = 'Zq8vT2xk9Lm3Np5R';
    for (const [secret, echo] of [
      [`sr=https%3A%2F%2Facme.servicebus.windows.net%2Fhub&skn=${S}&sig=abcdEFGH1234`, `key ${S} not found`],
      [`sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&spr=https&id=${S}`, `unknown id ${S}`],
      [`user=${S};pass=Abcd1234xyz`, `user ${S}`],
      ['hunterpassword extra', 'user hunterpassword denied'],
    ] as const)
      expect(secretScrubber([secret])(echo), secret).not.toContain(secret.includes(S) ? S : 'hunterpassword');
    const quoted = secretScrubber(['key="Zx9;Qw7&Er5,Ty3Ui8Op", id=abc'])('bad key Zx9;Qw7&Er5,Ty3Ui8Op');
    expect(quoted).not.toMatch(/Zx9|Qw7|Ui8Op/);
    expect(quoted).toContain(REDACTED);
  });

  it('removes the bare token, the Elastic key after decoding and a whsec key without its prefix', () => {
    expect(secretScrubber([splunk])('token=0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff')).toBe(`token=${REDACTED}`);
    expect(secretScrubber([elastic])('key ui2lp2axTNmsyakw9tvNnw refused')).toBe(`key ${REDACTED} refused`);
    expect(secretScrubber([signing])('c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==')).not.toContain('c2VjcmV0LXNpZ25p');
  });

  it('removes a UUID-shaped token echoed without its dashes (a Splunk HEC token as a SIEM may print it)', () => {
    const dashless = splunkToken.replace(/-/g, '');
    expect(secretParts(splunk)).toContain(dashless);
    for (const secret of [splunk, splunkToken]) {
      const scrub = secretScrubber([secret]);
      for (const echoed of [dashless, dashless.toUpperCase(), `{${dashless}}`, `token%3D${dashless}`])
        expect(scrub(`invalid token ${echoed} refused`), `${secret}: ${echoed}`).not.toContain(dashless.slice(0, 12));
      expect(scrub(`invalid token ${dashless} refused`)).toBe(`invalid token ${REDACTED} refused`);
    }
    // Only a UUID's shape loses its dashes: another dashed secret keeps them (its pieces are no UUID's).
    expect(secretParts('Bearer ab-cd-ef-0123456789')).not.toContain('abcdef0123456789');
  });

  it('removes a UUID without its dashes wherever the secret holds one: a decoded pair, after a name or a prefix', () => {
    const uuid = '3f2b8c1e-9a7d-4e21-b6c5-0d8e7f6a5b4c';
    const dashless = uuid.replace(/-/g, '');
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    for (const secret of [
      `Basic ${base64(`x:${uuid}`)}`,
      `ApiKey ${base64(`id1:${uuid}`)}`,
      `token:${uuid}`,
      `Splunk=${uuid}`,
      `urn:uuid:${uuid}`,
      `Bearer ${base64(uuid)}`,
    ]) {
      expect(secretParts(secret), secret).toContain(dashless);
      const scrub = secretScrubber([secret]);
      // The secret `token:<uuid>` spelled with a blank for its colon is the secret too (skeletonForms).
      const before = secret.startsWith('token:') ? 'invalid' : 'invalid token';
      for (const echoed of [dashless, dashless.toUpperCase(), `{${dashless}}`])
        expect(scrub(`invalid token ${echoed} refused`), `${secret}: ${echoed}`).toBe(
          `${before} ${echoed === `{${dashless}}` && before === 'invalid' ? `${REDACTED}}` : echoed.replace(/[0-9a-f]{32}/i, REDACTED)} refused`,
        );
      expect(scrub(`invalid token ${uuid} refused`), secret).toBe(`${before} ${REDACTED} refused`);
    }
  });

  it('finds base64 of the secret inside a longer encoded string at every byte offset', () => {
    const scrub = secretScrubber([bearer]);
    for (const prefix of ['', 'a', 'ab', 'Authorization: ']) {
      const encoded = Buffer.from(`${prefix}${bearer} trailing`).toString('base64');
      expect(scrub(encoded), prefix).toContain(REDACTED);
      expect(leakedForm(scrub(encoded), bearer), prefix).toBeNull();
    }
    expect(base64Fragments('abcdefghijkl').length).toBe(6);
  });

  it('a text as long as the shortest form is still read, in any spelling; a shorter one cannot hold it', () => {
    // The shortest form of a 4-character secret is the secret itself (its hex and base64 are longer).
    const scrub = secretScrubber(['k3y!']);
    expect(scrub('k3y!')).toBe(REDACTED);
    expect(scrub('K3Y!')).toBe(REDACTED);
    expect(scrub('%6B3y!')).toBe(REDACTED);
    expect(scrub('k3y')).toBe('k3y');
    expect(scrub('')).toBe('');
  });

  it('a cut text that ends inside a secret loses that end too, in any spelling', () => {
    const scrub = secretScrubber([splunk]);
    const token = splunkToken;
    // Spellings that begin with the secret itself (the base64 ones at an offset begin with text around it).
    // (A spelling with separators is read from a piece's length of its letters and digits: below.)
    const own = Object.entries(echoedForms(splunk)).filter(([name]) => !/Offset|spacedOut|hexdump/.test(name));
    for (const [name, echoed] of own) {
      for (const keep of [0.3, 0.5, 0.9]) {
        const part = echoed.slice(0, Math.max(6, Math.floor(echoed.length * keep)));
        const out = scrub(`{"error":"bad header ${part}`, true);
        // What stays before the redaction is at most an encoding's boundary: base64 of a secret at an
        // offset begins with characters that depend on the text before it, not on the secret.
        expect(out, `${name} ${keep}`).toMatch(/^\{"error":"bad header .{0,3}\[redacted\]$/);
      }
    }
    // Base64 of a longer text that embeds the secret, cut inside the secret: what stays visible
    // decodes to the text before the secret and at most a character or two of it.
    for (const [name, echoed] of Object.entries(echoedForms(splunk)).filter(([n]) => /Offset/.test(n))) {
      for (const keep of [0.7, 0.9]) {
        const out = scrub(`x ${echoed.slice(0, Math.floor(echoed.length * keep))}`, true);
        expect(out, `${name} ${keep}`).toMatch(/\[redacted\]$/);
        const visible = Buffer.from(out.slice(2, -REDACTED.length), name.includes('url') ? 'base64url' : 'base64').toString('latin1');
        expect(visible, `${name} ${keep}`).not.toContain('Splu');
      }
    }
    for (const name of ['spacedOut', 'hexdump']) {
      const echoed = echoedForms(splunk)[name]!;
      const out = scrub(`{"error":"bad header ${echoed.slice(0, Math.floor(echoed.length * 0.6))}`, true);
      expect(out, name).toMatch(/^\{"error":"bad header .{0,3}\[redacted\]$/);
    }
    // The bare token's start, cut anywhere past its first four characters.
    expect(scrub(`denied ${token.slice(0, 13)}`, true)).toBe(`denied ${REDACTED}`);
    expect(scrub(`denied ${token.slice(0, 13)}`, true)).not.toContain('0f6c');
    // Whole texts are not read for cut secrets: an ordinary ending stays, and a cut text's ending
    // that begins no secret stays too.
    expect(scrub(`denied ${token.slice(0, 13)}`)).toBe(`denied ${token.slice(0, 13)}`);
    expect(scrub('{"text":"Invalid token","code":4}', true)).toBe('{"text":"Invalid token","code":4}');
    // Three characters are too few to call a secret.
    expect(scrub('denied 0f6', true)).toBe('denied 0f6');
  });

  it('escapes nested in escapes: JSON in JSON, percent or an entity in JSON, an entity in a URL, and so on', () => {
    const token = splunkToken;
    const scrub = secretScrubber([splunk]);
    const nested: Record<string, (c: string) => string> = {
      jsonInJson: (c) => `\\u005cu00${hex(c)}`,
      percentInJson: (c) => `\\u0025${hex(c)}`,
      entityInJson: (c) => `\\u0026#x${hex(c)};`,
      entityInUrl: (c) => `%26%23x${hex(c)}%3B`,
      percentInEntity: (c) => `&#37;${hex(c)}`,
      jsonInUrl: (c) => `%5Cu00${hex(c)}`,
    };
    for (const [name, spell] of Object.entries(nested)) {
      const echoed = [...token].map(spell).join('');
      expect(scrub(`{"echo":"${echoed}"}`), name).toBe(`{"echo":"${REDACTED}"}`);
      // And cut anywhere inside it, past its first four characters.
      for (const at of [5, 11, 20, 33].map((n) => echoed.indexOf(spell(token[n]!)) + 3)) {
        expect(scrub(`{"echo":"${echoed.slice(0, at)}`, true), `${name} cut at ${at}`).toBe(`{"echo":"${REDACTED}`);
      }
    }
  });

  it('a cut inside an escape of any length: six layers of %25, an entity padded with zeros', () => {
    const token = splunkToken;
    const scrub = secretScrubber([splunk]);
    for (const spell of [(c: string) => `%${'25'.repeat(6)}${hex(c)}`, (c: string) => `&#x${'0'.repeat(10)}${hex(c)};`]) {
      const echoed = [...token].map(spell).join('');
      const oneChar = spell('0').length;
      for (const chars of [6, 13, 30]) {
        const text = `denied ${echoed.slice(0, chars * oneChar + oneChar - 2)}`;
        expect(scrub(text, true), text.slice(-40)).toBe(`denied ${REDACTED}`);
      }
    }
  });

  it('the credential after a scheme word, and the password of a Basic pair, are secrets however short', () => {
    const basic = `Basic ${Buffer.from('bob:hunter2').toString('base64')}`;
    expect(secretScrubber([basic])('wrong password hunter2 for bob')).toBe(`wrong password ${REDACTED} for bob`);
    expect(secretScrubber([basic])('wrong password hunte', true)).toBe(`wrong password ${REDACTED}`);
    expect(secretScrubber(['Bearer abc1234'])('token abc1234 expired')).toBe(`token ${REDACTED} expired`);
    // The scheme word alone is no secret.
    expect(secretScrubber(['Bearer abc1234'])('Bearer realm="api"')).toBe('Bearer realm="api"');
  });

  it('a non-ASCII secret percent-encoded as UTF-8, once or twice, as URLs carry it', () => {
    expect(secretScrubber(['pässwörd-12'])('?pw=p%C3%A4ssw%C3%B6rd-12&x=1')).toBe(`?pw=${REDACTED}&x=1`);
    expect(secretScrubber(['pässwörd-12'])('?pw=p%25C3%25A4ssw%25C3%25B6rd-12')).toBe(`?pw=${REDACTED}`);
    expect(secretScrubber(['日本語トークン'])(encodeURIComponent('token=日本語トークン'))).toBe(`token%3D${REDACTED}`);
    // Beyond the BMP: four bytes, or an entity, decode to the two units the verbatim secret holds.
    expect(secretScrubber(['key🔑secret'])(encodeURIComponent('key🔑secret'))).toBe(REDACTED);
    expect(secretScrubber(['key🔑secret'])('key&#x1F511;secret')).toBe(REDACTED);
    // Bytes that are no UTF-8 character stay bytes: nothing is invented.
    expect(secretScrubber(['pässwörd-12'])('p%C3%28ssw')).toBe('p%C3%28ssw');
  });

  it('a Basic pair whose password is not ASCII, decoded as UTF-8 (what a client encodes it in)', () => {
    const basic = `Basic ${Buffer.from('svc-audit:Passwört2024!').toString('base64')}`;
    const scrub = secretScrubber([basic]);
    expect(scrub('login failed for svc-audit:Passwört2024!')).toBe(`login failed for ${REDACTED}`);
    // The user is a part of eight characters, so it goes too: over-matching costs a "[redacted]".
    expect(scrub('wrong password Passwört2024! for svc-audit')).toBe(`wrong password ${REDACTED} for ${REDACTED}`);
    expect(scrub(`?pw=${encodeURIComponent('Passwört2024!')}&x=1`)).toBe(`?pw=${REDACTED}&x=1`);
    expect(secretParts(basic)).toEqual(expect.arrayContaining(['svc-audit:Passwört2024!', 'Passwört2024!']));
    // Beyond the BMP (four bytes) and a CJK password: decoded alike.
    expect(secretParts(`Basic ${Buffer.from('ops:鍵🔑secret').toString('base64')}`)).toContain('鍵🔑secret');
  });

  it('a non-ASCII password echoed composed or decomposed (NFC, NFD), whichever way it was configured', () => {
    const nfc = 'Passwört2024!'.normalize('NFC');
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    for (const configured of [nfc, nfd]) {
      const scrub = secretScrubber([`Basic ${Buffer.from(`svc-audit:${configured}`).toString('base64')}`]);
      for (const echoed of [nfc, nfd]) {
        const where = `${configured === nfc ? 'NFC' : 'NFD'} configured, ${echoed === nfc ? 'NFC' : 'NFD'} echoed`;
        expect(scrub(`wrong password ${echoed} (user svc)`), where).toBe(`wrong password ${REDACTED} (user svc)`);
        expect(scrub(`WRONG PASSWORD ${echoed.toUpperCase()}.`), where).toBe(`WRONG PASSWORD ${REDACTED}.`);
        expect(scrub(`?pw=${encodeURIComponent(echoed)}&x=1`), where).toBe(`?pw=${REDACTED}&x=1`);
        expect(scrub(`{"pw":"${[...echoed].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`), where).toBe(`{"pw":"${REDACTED}"}`);
        // Its hex and base64 as the receiver's bytes spell them.
        expect(scrub(`hex ${Buffer.from(echoed).toString('hex')} end`), where).toBe(`hex ${REDACTED} end`);
        // (Its last characters, which depend on what follows it, may stay.)
        expect(scrub(`b64 ${Buffer.from(`svc-audit:${echoed}`).toString('base64')} end`), where).toMatch(/^b64 \[redacted\][A-Za-z0-9+/]{0,3}=* end$/);
        // A piece of it (half and more), decomposed or not, and the text after it kept whole.
        expect(scrub(`key ${echoed.slice(0, -1)}… refused: é`), where).toBe(`key ${REDACTED}… refused: é`);
        // A cut text ending inside it.
        expect(scrub(`wrong password ${echoed.slice(0, 9)}`, true), where).toBe(`wrong password ${REDACTED}`);
      }
    }
    // Text around a decomposed secret stays as it was written, decomposed too.
    const scrub = secretScrubber([`Basic ${Buffer.from(`svc-audit:${nfc}`).toString('base64')}`]);
    const around = 'Ère de\u0301ja\u0300 vue';
    expect(scrub(`${around.normalize('NFD')} ${nfd} ${around.normalize('NFD')}`)).toBe(`${around.normalize('NFD')} ${REDACTED} ${around.normalize('NFD')}`);
  });

  it('base64 that is not UTF-8, or decodes to control characters, is no credential pair; ASCII ones read as before', () => {
    const partsOf = (bytes: number[]) => secretParts(`Basic ${Buffer.from(bytes).toString('base64')}`);
    const ascii = [...Buffer.from('bob:')];
    // A lone Latin-1 byte (ö as 0xF6), an overlong encoding, a truncated sequence, an encoded surrogate.
    for (const bad of [[0xf6], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
      const bytes = [...ascii, ...Buffer.from('pass'), ...bad, ...Buffer.from('word')];
      expect(
        partsOf(bytes).filter((part) => part.includes('word')),
        bad.join(),
      ).toEqual([]);
    }
    // Control characters, C0 and C1 (U+0085 spelled as UTF-8): not printable text.
    for (const control of ['\t', '\u0001', '\u007f', '\u0085'])
      expect(
        partsOf([...Buffer.from(`bob:pass${control}word`)]).filter((part) => part.includes('word')),
        JSON.stringify(control),
      ).toEqual([]);
    const basic = `Basic ${Buffer.from('bob:hunter2').toString('base64')}`;
    expect(secretParts(basic)).toEqual([basic, 'Ym9iOmh1bnRlcjI=', 'Basic Ym9iOmh1bnRlcjI', 'Ym9iOmh1bnRlcjI', 'bob:hunter2', 'hunter2']);
  });

  it('a secret ending in a backslash, %, or &, echoed before more text', () => {
    const scrub = secretScrubber(['s3cret-token\\']);
    // JSON escapes the backslash; verbatim, it reads as escaping the next character. Either way the
    // secret goes (at worst its last character, alone no secret, stays).
    expect(scrub('{"auth":"s3cret-token\\\\"}')).toMatch(/^\{"auth":"\[redacted\]\\{0,2}"\}$/);
    expect(scrub('header: s3cret-token\\ next')).toBe(`header: ${REDACTED} next`);
    expect(secretScrubber(['8b1e2f00%'])('key 8b1e2f00%25250b')).toBe(`key ${REDACTED}25250b`);
  });

  it('a verbatim secret after a stray % or &# that would decode with its first characters', () => {
    expect(secretScrubber(['deadbeef0123456789'])('progress 100%deadbeef0123456789 done')).toBe(`progress 100%${REDACTED} done`);
    expect(secretScrubber(['2b98'])('%2b98')).toBe(`%${REDACTED}`);
  });

  it('a megabyte of backslashes is read once, not once per backslash', () => {
    // Each backslash of a run that ended the text used to scan the rest of the run again: quadratic,
    // seconds for a 64 KiB answer. Read once, this finishes far inside the test's own time limit.
    const text = '\\'.repeat(1 << 20);
    expect(secretScrubber([splunk])(text)).toBe(text);
    expect(secretScrubber([splunk])(text, true)).toBe(text);
  });

  it('leaves ordinary bodies and short or missing secrets alone', () => {
    expect(secretScrubber([bearer, null])('{"text":"Success","code":0}')).toBe('{"text":"Success","code":0}');
    expect(secretScrubber([null, undefined, 'abc'])('abc')).toBe('abc');
  });
});

describe('what a scrubber hands back is storable, whatever the SIEM answered', () => {
  const scrub = secretScrubber([`Bearer ${token}`]);

  it('drops NULs (PostgreSQL refuses them) and replaces unpaired surrogates', () => {
    expect(scrub('bad request\0\0 from proxy')).toBe('bad request from proxy');
    expect(secretScrubber([])('a\0b \ud800 c \udc00')).toBe('ab \uFFFD c \uFFFD');
    expect(scrub('ok \ud83d\ude00')).toBe('ok \ud83d\ude00');
  });

  it('scrubs a credential echoed in UTF-16 (a NUL after every character)', () => {
    const utf16 = Buffer.from(`unknown token ${token}`, 'utf16le').toString('latin1');
    const out = scrub(utf16);
    expect(out).not.toContain('\0');
    expect(out).toBe(`unknown token ${REDACTED}`);
  });

  it('scrubs a secret whose escapes decode to a NUL, echoed decoded', () => {
    // A receiver that URL-decodes what it echoes: the NUL the scrubbed text loses must not unmask it.
    expect(secretScrubber(['s3cr%00t-abcdefgh'])('echo s3cr\0t-abcdefgh')).toBe(`echo ${REDACTED}`);
  });

  it('drops escape sequences, control characters and bidi formatting, which would garble what people read', () => {
    const hostile = '\u001b[31mERROR\u001b[0m \u202eevil txt\u202c \u0007bell\u0085 \u2066iso\u2069';
    expect(secretScrubber([])(hostile)).toBe('ERROR evil txt bell iso');
    expect(scrub(hostile)).toBe('ERROR evil txt bell iso');
    // Whitespace stays for the callers to fold; a secret spelled with escape codes inside is found.
    expect(scrub('a\tb\r\nc')).toBe('a\tb\r\nc');
    expect(scrub(`token ${token.slice(0, 10)}\u001b[0m${token.slice(10)}`)).toBe(`token ${REDACTED}`);
  });

  it('drops invisible format characters, which would hide a secret between its characters, and terminal strings', () => {
    for (const c of ['\u200b', '\u200d', '\u2060', '\u2064', '\ufeff', '\u00ad', '\u034f', '\u180e', '\u{e0020}']) {
      expect(scrub(`token ${token.slice(0, 10)}${c}${token.slice(10)}`), JSON.stringify(c)).toBe(`token ${REDACTED}`);
    }
    // A terminal hyperlink (OSC 8) and a title (OSC 0) go with their payload; tag characters too.
    expect(secretScrubber([])('\u001b]8;;https://evil.example/\u0007click\u001b]8;;\u0007 here \u001b]0;title\u001b\\ok')).toBe('click here ok');
    expect(secretScrubber([])('a\u{e0041}\u{e0042}b')).toBe('ab');
  });

  it('scrubs a base64 token echoed without its "=" padding', () => {
    expect(scrub(`{"error":"token ${token.replace(/=+$/, '')} is unknown"}`)).toBe(`{"error":"token ${REDACTED} is unknown"}`);
  });
});

describe('cutSecretTail (a secret cut short by the end of a capped answer)', () => {
  /** The rule as stated: the longest k (at least 4, less than the form) with chars ending in form's first k. */
  const naive = (chars: string, forms: string[]) => {
    let best = 0;
    for (const form of forms)
      for (let k = Math.min(form.length - 1, chars.length); k >= 4 && k > best; k--)
        if (chars.endsWith(form.slice(0, k))) {
          best = k;
          break;
        }
    return best;
  };

  it('property: the linear matcher finds what trying every length finds', () => {
    // A small alphabet, so that forms and texts overlap in every way (repeats, borders, near misses).
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 40 });
    fc.assert(
      fc.property(text, fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 1, maxLength: 16 }), { maxLength: 4 }), (chars, forms) => {
        expect(cutSecretTail(chars, forms)).toBe(naive(chars, forms));
      }),
      { numRuns: 3000 },
    );
  });

  it('finds the start of an 8 KiB secret at the end of a 64 KiB answer, and nothing when it is not there', () => {
    const secret = 'A'.repeat(8192);
    expect(cutSecretTail(`${'a'.repeat(65_528)}${'A'.repeat(100)}`, [secret])).toBe(100);
    expect(cutSecretTail(`${'a'.repeat(65_528)}b\\\\\\\\`, [secret])).toBe(0);
  });
});

describe('secretScrubber, every occurrence joined into the ranges it replaces', () => {
  /**
   * Each stretch of the text that any form's occurrences, or any long enough piece of a secret,
   * cover, overlapping or touching, as one [redacted].
   */
  const naive = (text: string, secrets: string[]) => {
    const covered = new Array<boolean>(text.length).fill(false);
    for (const form of secretForms(secrets)) for (const at of indexesOf(text, form)) covered.fill(true, at, at + form.length);
    for (const { form, min } of pieceForms(secrets))
      for (let at = 0; at + min <= text.length; at++) if (form.includes(text.slice(at, at + min))) covered.fill(true, at, at + min);
    let out = '';
    for (let i = 0; i < text.length; i++)
      if (!covered[i]) out += text[i];
      else if (i === 0 || !covered[i - 1]) out += REDACTED;
    return out;
  };

  it('property: the same text as replacing every occurrence and piece, however they overlap or touch', () => {
    // No escape characters: the text is read as it stands, so where each occurrence lies is plain. The
    // text is built of the secrets, their halves and single letters, so occurrences overlap and touch.
    const unit = fc.constantFrom('a', 'b', 'c');
    const case_ = fc.array(fc.string({ unit, minLength: 4, maxLength: 70 }), { minLength: 1, maxLength: 3 }).chain((secrets) => {
      const pieces = secrets.flatMap((x) => [x, x.slice(0, x.length >> 1), x.slice(x.length >> 1)]);
      return fc.tuple(fc.constant(secrets), fc.array(fc.oneof(unit, fc.constantFrom(...pieces)), { maxLength: 40 }));
    });
    fc.assert(
      fc.property(case_, ([secrets, parts]) => {
        const text = parts.join('');
        expect(secretScrubber(secrets)(text)).toBe(naive(text, secrets));
      }),
      { numRuns: 2000 },
    );
  });

  it('a 64 KiB run of a secret repeated character, overlapping at every position, is one [redacted]', () => {
    const secrets = ['A'.repeat(16), `Splunk ${'A'.repeat(40)}`, 'A'.repeat(70)];
    expect(secretScrubber(secrets)(`x${'a'.repeat(65_536)}y`)).toBe(`x${REDACTED}y`);
    expect(secretScrubber(secrets)(`${'a'.repeat(100)}-${'a'.repeat(11)}-${'A'.repeat(16)}`)).toBe(`${REDACTED}-${'a'.repeat(11)}-${REDACTED}`);
  });
});

describe('occurrences (every place a form appears, overlapping ones too)', () => {
  it('property: long forms, searched with the matcher, are found where indexOf finds them', () => {
    const unit = fc.constantFrom('a', 'b');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 300 }), fc.string({ unit, minLength: 64, maxLength: 80 }), (text, form) => {
        expect(occurrences(text, form)).toEqual(indexesOf(text, form));
      }),
      { numRuns: 2000 },
    );
    for (const [text, form] of [
      ['a'.repeat(200), 'a'.repeat(64)],
      ['ab'.repeat(100), 'ab'.repeat(32)],
      [`${'aab'.repeat(60)}aa`, `${'aab'.repeat(22)}a`],
    ] as const)
      expect(occurrences(text, form)).toEqual(indexesOf(text, form));
  });
});

describe('secretScrubber, echoes a receiver rewrote on its way back', () => {
  const datadog = '4f3c2a1b9e8d7c6b5a49382716f5e4d3';

  it('named character references, as an HTML error page escapes the echo (htmlspecialchars)', () => {
    const header = 'key="AKIA7Q2X9LMN4P8R"&sig=9f8e7d6c5b4a39281706f5e4d3c2b1a0';
    expect(secretScrubber([header])('<p>key=&quot;AKIA7Q2X9LMN4P8R&quot;&amp;sig=9f8e7d6c5b4a39281706f5e4d3c2b1a0</p>')).toBe(`<p>${REDACTED}</p>`);
    const scrub = secretScrubber([`Bearer ${token}`]);
    expect(scrub(`<b>${token.replace(/\//g, '&sol;').replace(/\+/g, '&plus;')}</b>`)).toBe(`<b>${REDACTED}</b>`);
    // Any letter case, and escaped twice (an entity whose & was escaped again).
    expect(scrub(`<b>${token.replace(/\//g, '&SOL;').replace(/\+/g, '&amp;plus;')}</b>`)).toBe(`<b>${REDACTED}</b>`);
  });

  it('every named reference of a printable ASCII character, in any letter case', () => {
    const names: Array<[string, string]> = [
      ['quot', '"'],
      ['amp', '&'],
      ['lt', '<'],
      ['gt', '>'],
      ['apos', "'"],
      ['excl', '!'],
      ['num', '#'],
      ['dollar', '$'],
      ['percnt', '%'],
      ['lpar', '('],
      ['rpar', ')'],
      ['ast', '*'],
      ['midast', '*'],
      ['plus', '+'],
      ['comma', ','],
      ['period', '.'],
      ['sol', '/'],
      ['colon', ':'],
      ['semi', ';'],
      ['equals', '='],
      ['quest', '?'],
      ['commat', '@'],
      ['lsqb', '['],
      ['lbrack', '['],
      ['bsol', '\\'],
      ['rsqb', ']'],
      ['rbrack', ']'],
      ['Hat', '^'],
      ['lowbar', '_'],
      ['UnderBar', '_'],
      ['grave', '`'],
      ['DiacriticalGrave', '`'],
      ['lcub', '{'],
      ['lbrace', '{'],
      ['verbar', '|'],
      ['vert', '|'],
      ['VerticalLine', '|'],
      ['rcub', '}'],
      ['rbrace', '}'],
    ];
    for (const [name, char] of names) {
      const scrub = secretScrubber([`s3cr${char}t-4x9q`]);
      for (const spelled of [name, name.toUpperCase(), name.toLowerCase()]) {
        expect(scrub(`echo s3cr&${spelled};t-4x9q.`), spelled).toBe(`echo ${REDACTED}.`);
      }
    }
    // An unknown name, or one without its ";", is text.
    expect(secretScrubber(['s3cr"t-4x9q'])('s3cr&quott;t-4x9q s3cr&quot t-4x9q')).toBe('s3cr&quott;t-4x9q s3cr&quot t-4x9q');
  });

  it('a cut text ending inside a named reference loses the secret before it', () => {
    const scrub = secretScrubber(['s3cr"t-4x9q-abcdef']);
    expect(scrub('echo s3cr&quo', true)).toBe(`echo ${REDACTED}`);
    expect(scrub('echo s3cr&amp;q', true)).toBe(`echo ${REDACTED}`);
  });

  it('a "+" read back as a space (a form-decoding gateway), and a space as "+", at exact positions', () => {
    const scrub = secretScrubber([`Bearer ${token}`]);
    expect(scrub(`{"auth":"Bearer ${token.replace(/\+/g, ' ')}","n":1}`)).toBe(`{"auth":"${REDACTED}","n":1}`);
    expect(scrub(`{"auth":"${token.replace(/\+/g, ' ')}","n":1}`)).toBe(`{"auth":"${REDACTED}","n":1}`);
    expect(scrub(`x ${token.replace(/\+/g, '%20')} y`)).toBe(`x ${REDACTED} y`);
    expect(secretScrubber(['correct horse battery staple'])('pw=correct+horse+battery+staple.')).toBe(`pw=${REDACTED}.`);
  });

  it('the raw-text reading works whatever case folding does to the length (a dotted capital I)', () => {
    const body = `{"errors":["İnvalid: %${datadog}"]}`;
    expect(secretScrubber([datadog])(body)).toBe(`{"errors":["İnvalid: %${REDACTED}"]}`);
    expect(secretScrubber([datadog])(`İ&#${datadog} İ`)).toBe(`İ&#${REDACTED} İ`);
  });

  it('a long piece of a secret, wherever it stands: half of it, and at least 12 characters', () => {
    const scrub = secretScrubber([datadog]);
    expect(scrub(`API key ${datadog.slice(0, 24)}... is invalid`)).toBe(`API key ${REDACTED}... is invalid`);
    expect(scrub(`key ...${datadog.slice(10, 26).toUpperCase()}... refused`)).toBe(`key ...${REDACTED}... refused`);
    expect(scrub(`key %${datadog.slice(0, 16)}`)).toBe(`key %${REDACTED}`);
    // Shorter than half: left alone (8 hex digits and more to guess).
    expect(scrub(`API key ${datadog.slice(0, 15)}... is invalid`)).toBe(`API key ${datadog.slice(0, 15)}... is invalid`);
    // Of a token after its scheme word, the token's pieces; the space before it stays.
    expect(secretScrubber([`Bearer ${token}`])(`token ${token.slice(0, 20)}…`)).toBe(`token ${REDACTED}…`);
    // A short secret's pieces are at least 12 characters: one of 16 is found whole or from 12 on.
    expect(secretScrubber(['0123456789abcdef'])('x 0123456789a y 0123456789ab z')).toBe(`x 0123456789a y ${REDACTED} z`);
  });

  // Each left a credential readable in the delivery log, the destination's last error and a dead
  // letter's (two attacker reviews): a receiver's echo with separators put between its characters.
  it('a secret with separators put between its characters, whatever they are', () => {
    const splunk = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
    expect(secretScrubber([`Splunk ${splunk}`])('{"code":99,"text":"Unknown token 9f8e7d6c-5b4a-439.2-8170-6f5e4d3c2b.1a"}')).toBe(
      `{"code":99,"text":"Unknown token ${REDACTED}"}`,
    );
    const custom = 'org-c-secret-token-abcdef123456';
    expect(secretScrubber([`Bearer ${custom}`])('redirects to https://evil.example/org-c-secret-to/ken-abcdef12345/6')).toBe(
      `redirects to https://evil.example/${REDACTED}`,
    );
    const third = Math.ceil(datadog.length / 3);
    const pieces = [datadog.slice(0, third), datadog.slice(third, 2 * third), datadog.slice(2 * third)];
    expect(secretScrubber([datadog])(`bad key: ${pieces.join(' | ')} (refused)`)).toBe(`bad key: ${REDACTED} (refused)`);
    expect(secretScrubber([datadog])(`k=${[...datadog].join(' ')}`)).toBe(`k=${REDACTED}`);
    // A hexdump of the request, as a debugging proxy's error page shows it.
    const hexdump = [...Buffer.from(datadog)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    expect(secretScrubber([datadog])(`request: ${hexdump} ...`)).toBe(`request: ${REDACTED} ...`);
    // An Elastic password split in two halves, in the answer to its Basic pair.
    const basic = `Basic ${Buffer.from('elastic:S3cretPassw0rd!xyz').toString('base64')}`;
    expect(secretScrubber([basic])('login S3cretPa / ssw0rd!xyz refused')).toBe(`login ${REDACTED} refused`);
  });

  it('reads no separated secret into ordinary words or a shorter run', () => {
    const scrub = secretScrubber([`Splunk 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a`, 'hunter22']);
    for (const text of ['Unknown token 9f8e7d6c-5b4a', 'code 9f8e 7d6c 5b4a 4392 x', 'bad password: h u n t e r 2 2', 'request id 6f5e4d3c-2b1a'])
      expect(scrub(text), text).toBe(text);
  });

  it('finds no piece in ordinary text that shares no more than a few characters with a long token', () => {
    // With a key of 30 bits alone, a 1 KiB token's 500 windows matched a window of this text by
    // chance and 512 characters of it were redacted.
    const hex = (x: string) => createHash('sha256').update(x).digest('hex');
    let token = '';
    for (let i = 0; token.length < 1024; i++) token += hex(`secret${i}`);
    let answer = '';
    for (let i = 0; answer.length < 4096; i++) answer += `${hex(`answer638-${i}`)}\n`;
    expect(secretScrubber([`Bearer ${token.slice(0, 1024)}`])(answer)).toBe(answer);
  });

  it('reads pieces of only the longest few parts of a header value of many words', () => {
    const words = Array.from({ length: 580 }, (_, i) => `w${String(i).padStart(4, '0')}abcdefgh`);
    expect(pieceForms([words.join(' ')]).length).toBeLessThanOrEqual(8);
  });

  it('leaves the host of a Basic pair whose user is an address readable, and redacts its password', () => {
    const scrub = secretScrubber([`Basic ${Buffer.from('alerts@corp.example.com:hunter22').toString('base64')}`]);
    expect(scrub('getaddrinfo ENOTFOUND smtp.corp.example.com')).toBe('getaddrinfo ENOTFOUND smtp.corp.example.com');
    expect(scrub('bad password hunter22')).toBe(`bad password ${REDACTED}`);
  });

  it('redacts a cut answer that ends inside an escape after a wrapped line of base64', () => {
    const plainToken = 'Zx9aQm14Lk2bPa7cRt5wYv3nBc8dHd1eJe6Kf0';
    const fragment = base64Fragments(plainToken)[0]!;
    const scrub = secretScrubber([`Bearer ${plainToken}`]);
    for (const end of ['%2', '\\u00', '&#4', '&quo']) {
      const out = scrub(`x ${fragment.slice(0, 30)}\n${fragment.slice(30, 40)}${end}`, true);
      expect(out, end).toBe(`x ${REDACTED}`);
    }
  });

  it('finds pieces of a password that holds an at sign, which is no address', () => {
    const scrub = secretScrubber([`Basic ${Buffer.from('svc-user:Tr0ub4dor@3xample-Passw0rd').toString('base64')}`]);
    expect(scrub('key prefix 3xample-Passw0rd rejected')).toBe(`key prefix ${REDACTED} rejected`);
  });

  it('leaves host names alone that an address or URL in a credential shares, and never half a surrogate pair', () => {
    const basic = `Basic ${Buffer.from('svc-splunk@corp.example.com:Pa55word-long-enough').toString('base64')}`;
    const scrub = secretScrubber([basic]);
    expect(scrub('connect to https://splunk.corp.example.com:8088 failed')).toBe('connect to https://splunk.corp.example.com:8088 failed');
    expect(scrub('login Pa55word-long-enou refused')).toBe(`login ${REDACTED} refused`);
    const astral = secretScrubber(['xyzSECRETabcdefghijkl\u{1F600}']);
    const out = astral('echo abcdefghijkl\u{1F601} end');
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(out).toContain(REDACTED);
  });

  // Linear, not timed: a quadratic path takes minutes on these and meets the test's ceiling.
  it('64 KiB of named references, of "&" and letters, of "+" and of dotted capital Is stay linear', () => {
    const scrub = secretScrubber([`Bearer ${token}`, datadog]);
    for (const text of [
      '&quot;'.repeat(11_000),
      `&${'amp;'.repeat(16_000)}`,
      `&${'a'.repeat(65_536)}`,
      '&a'.repeat(32_768),
      '+ '.repeat(32_768),
      `${'İ'.repeat(32_768)}%${'İ%'.repeat(16_000)}`,
      // Pieces: a text repeating a secret's characters, and a 16 KiB secret of one character.
      datadog.repeat(2_048),
      'ab'.repeat(32_768),
    ]) {
      // None holds a secret but the repeated key, which goes whole, cut or not.
      const expected = text === datadog.repeat(2_048) ? REDACTED : text;
      expect(scrub(text), text.slice(0, 12)).toBe(expected);
      expect(scrub(text, true), text.slice(0, 12)).toBe(expected);
    }
    // Windows that almost match at every position (one character changed in each secret): a
    // comparison per matching hash made this a window's length per character.
    const near = secretScrubber(['b', 'c', 'd', 'e'].map((x) => `whsec_${'a'.repeat(509)}${x}${'a'.repeat(508)}`));
    expect(near(`${'a'.repeat(65_533)}%41`)).toBe(REDACTED);
    const long = secretScrubber(['a'.repeat(16_384), 'ab'.repeat(8_192)]);
    expect(long('a'.repeat(65_536))).toBe(REDACTED);
    expect(long(`x${'ab'.repeat(32_768)}`)).toBe(`x${REDACTED}`);
  });
});

describe('secretScrubber, base64 of the request wrapped into lines (MIME, encode_base64, base64.encodebytes)', () => {
  const secret = `Bearer ${token}`;
  const scrub = secretScrubber([secret]);
  // Also folded (a header continued on an indented line) and indented (base64 in a YAML or
  // pretty-printed document).
  const BREAKS = { crlf: '\r\n', lf: '\n', jsonLf: '\\n', jsonCrlf: '\\r\\n', folded: '\r\n ', indented: '\n      ', tabbed: '\n\t\t' };
  const wrap = (base64: string, br: string, width = 76) => base64.match(new RegExp(`.{1,${width}}`, 'g'))!.join(br);
  /**
   * Whether `out`, its line breaks removed, still holds eight characters in a row of the token's
   * base64 at any byte offset: written without the scrubber's code (leakedForm looks for whole
   * fragments only).
   */
  const leaks = (out: string, br: string) => {
    const joined = out.split(br).join('').replace(/\\\//g, '/');
    for (let k = 0; k < 3; k++) {
      const middle = Buffer.from(`${'x'.repeat(k)}${token}`)
        .toString('base64')
        .slice(4, -4);
      for (let at = 0; at + 8 <= middle.length; at++) if (joined.includes(middle.slice(at, at + 8))) return middle.slice(at, at + 8);
    }
    return leakedForm(joined, secret);
  };

  for (const [name, br] of Object.entries(BREAKS)) {
    it(`the token goes wherever a line break (${name}) falls in its base64, and the breaks inside go with it`, () => {
      // Padding the request before the header moves the wrap through every position of the token.
      for (let pad = 0; pad < 80; pad++) {
        const request = `POST /hook HTTP/1.1\r\nHost: siem.example.com\r\nX-Pad: ${'p'.repeat(pad)}\r\nAuthorization: ${secret}\r\nContent-Type: application/json\r\n\r\n`;
        const echoed = wrap(Buffer.from(request).toString('base64'), br);
        // As a JSON string escapes it (the `/` as `\/` too), and as a plain body.
        for (const body of [`{"echo":"${echoed.replace(/\//g, '\\/')}"}`, echoed]) {
          const out = scrub(body);
          expect(leaks(out, br), `pad ${pad}: ${out}`).toBeNull();
          expect(out, `pad ${pad}`).toContain(REDACTED);
          // What is left of the echo still reads: the base64 before the header.
          expect(out.startsWith(body.slice(0, 20)), `pad ${pad}`).toBe(true);
        }
      }
    });
  }

  it('one range from the first character of the fragment to its last, the breaks within included', () => {
    for (const fragment of base64Fragments(token)) {
      for (const br of Object.values(BREAKS)) {
        const at = fragment.length >> 1;
        expect(scrub(`echo: xy${fragment.slice(0, at)}${br}${fragment.slice(at)}z done`)).toBe(`echo: xy${REDACTED}z done`);
      }
    }
  });

  it('a cut answer that ends inside the wrapped base64 of the token loses that end too', () => {
    const echoed = wrap(Buffer.from(`Authorization: ${secret}\r\n`).toString('base64'), '\r\n', 20);
    const start = Buffer.from('Authorization: Bearer ').toString('base64').length - 4;
    for (let cut = start + 16; cut < echoed.length - 8; cut += 5) {
      const out = scrub(`x ${echoed.slice(0, cut)}`, true);
      expect(out, `cut at ${cut}`).toMatch(/\[redacted\]$/);
      expect(leaks(out, '\r\n'), `cut at ${cut}`).toBeNull();
    }
  });

  it('line breaks between ordinary words, or between other base64, change nothing', () => {
    const other = wrap(Buffer.from('nothing secret in here, only a long enough text to be wrapped twice over at least').toString('base64'), '\n', 20);
    expect(scrub(other)).toBe(other);
    expect(scrub('first line\nsecond line\r\nthird\\nfourth')).toBe('first line\nsecond line\r\nthird\\nfourth');
  });

  it('64 KiB of short base64 runs between line breaks: the token spelled across them goes, the rest stays', () => {
    for (const br of Object.values(BREAKS)) {
      // Not a secret: every break and run stays as it was.
      const noise = `ab${br}c${br}`.repeat(65_536 / (3 + 2 * br.length));
      expect(scrub(noise)).toBe(noise);
      // The token's base64, one character per line, over and over: nothing of it is left.
      const fragment = base64Fragments(token)[0]!;
      const spelled = [...fragment].join(br);
      const text = `${spelled}${br}`.repeat(Math.ceil(65_536 / (spelled.length + br.length)));
      const out = scrub(text);
      expect(leaks(out, br)).toBeNull();
      expect(out.split(br).join('').replaceAll(REDACTED, '').length).toBeLessThan(fragment.length);
    }
    // Breaks and lone characters in every mix, and backslashes that begin no break.
    const mixed = 'a\nb\\nc\r\n\\\\n\\'.repeat(4096);
    expect(scrub(mixed)).toBe(mixed);
  });
});

// Composing what is read (NFC) must not cost the forms as written: a mark right after a secret
// composes with its last character, and the secret no longer spells itself in the composed text.
describe('a combining mark next to a secret (attacker review of the NFC reading)', () => {
  it.each([
    [['hunter2a'], 'pw=hunter2a\u0301 ok', false, 'pw=[redacted]\u0301 ok'],
    [['hunter2a'], 'pw=hunter2a\u0301', true, 'pw=[redacted]\u0301'],
    [['deadbeefcafe'], 'k=deadbeefcafe\u0301', false, 'k=[redacted]\u0301'],
    [['Zq7vWdKp9LmXyT0kEn4AaBbe'], 'k=Zq7vWdKp9LmXyT0kEn4AaBbe\u0301', false, 'k=[redacted]\u0301'],
  ])('%j in %j (cut: %s) is redacted whole', (secrets, text, cut, expected) => {
    expect(secretScrubber(secrets)(text, cut)).toBe(expected);
  });

  it('a wrapped base64 form followed by a line that starts with a mark is redacted whole', () => {
    const token = `Bearer ${'eyJhbGciOiJIUzI1NiJ9.'}${'QWxhZGRpbjpvcGVuIHNlc2FtZQ'.repeat(6)}.c2lnbmF0dXJl`;
    const b64 = Buffer.from(token).toString('base64');
    const wrapped = b64.match(/.{1,64}/g)!.join('\n');
    const out = secretScrubber([token])(`seen: ${wrapped}\n\u0308%+;`);
    for (let at = 0; at + 12 <= b64.length; at += 6) expect(out).not.toContain(b64.slice(at, at + 12));
  });

  it('a secret typed decomposed, cut between a letter and its mark, loses that end', () => {
    expect(secretScrubber(['Passwo\u0308rt'])('pw=Passwo', true)).toBe('pw=[redacted]');
  });
});

// A hostile-SIEM review: a credential echoed as a hex dump with a prefix before each byte (Wireshark's
// escaped string, Python's bytes repr, `xxd -i`, a C or Go byte array), or in compatibility letters
// (full-width ASCII, mathematical bold and italic), went past the scrubber whole.
describe('secretScrubber, a credential echoed byte by byte with a prefix, or in compatibility letters', () => {
  const hxToken = 'hx_ZHLJq8vT2xk9Lm3Np5R7wYc4Bd6Fg1Kj0';
  const bearer = `Bearer ${hxToken}`;
  const splunkToken = '0f6c1a2e-1234-4b5c-9d8e-aabbccddeeff';
  const splunk = `Splunk ${splunkToken}`;
  const password = 'Passwört2024!xyz';
  const basic = `Basic ${Buffer.from(`svc-audit:${password}`).toString('base64')}`;
  const h2 = (b: number) => b.toString(16).padStart(2, '0');
  const bytesOf = (s: string) => [...Buffer.from(s, 'utf8')];
  /** Each way a tool prints bytes one by one with a prefix. */
  const DUMPS: Record<string, (s: string) => string> = {
    pythonRepr: (s) =>
      bytesOf(s)
        .map((b) => `\\x${h2(b)}`)
        .join(''),
    escapedUpper: (s) =>
      bytesOf(s)
        .map((b) => `\\x${h2(b).toUpperCase()}`)
        .join(''),
    // A JSON string of Python's repr: each backslash doubled.
    reprInJson: (s) =>
      bytesOf(s)
        .map((b) => `\\\\x${h2(b)}`)
        .join(''),
    cArray: (s) =>
      bytesOf(s)
        .map((b) => `0x${h2(b)}`)
        .join(', '),
    cArrayTight: (s) =>
      bytesOf(s)
        .map((b) => `0x${h2(b)}`)
        .join(','),
    cArraySpaced: (s) =>
      bytesOf(s)
        .map((b) => `0x${h2(b)}`)
        .join(' '),
    cArrayUpper: (s) =>
      bytesOf(s)
        .map((b) => `0X${h2(b).toUpperCase()}`)
        .join(', '),
    // xxd -i: twelve bytes a line, indented.
    xxd: (s) =>
      bytesOf(s)
        .map((b) => `0x${h2(b)}`)
        .join(', ')
        .replace(/((?:0x[0-9a-f]{2}, ){11}0x[0-9a-f]{2}), /g, '$1,\n  '),
  };
  const fullWidth = (s: string) => [...s].map((c) => (c === ' ' ? '\u3000' : c > ' ' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
  /** Letters and digits in a mathematical alphabet (its capital A, small a, digit 0), the rest as it is; `holes`: letters the block leaves to U+2100-214F. */
  const mathematical =
    (capital: number, small: number, digit: number | null, holes: Record<string, string> = {}) =>
    (s: string) =>
      [...s]
        .map((c) => {
          if (holes[c]) return holes[c];
          if (c >= 'A' && c <= 'Z') return String.fromCodePoint(capital + c.charCodeAt(0) - 65);
          if (c >= 'a' && c <= 'z') return String.fromCodePoint(small + c.charCodeAt(0) - 97);
          if (digit !== null && c >= '0' && c <= '9') return String.fromCodePoint(digit + c.charCodeAt(0) - 48);
          return c;
        })
        .join('');
  const LETTERS: Record<string, (s: string) => string> = {
    fullWidth,
    fullWidthAsciiSpace: (s) => fullWidth(s).replace(/\u3000/g, ' '),
    mathBold: mathematical(0x1d400, 0x1d41a, 0x1d7ce),
    mathItalic: mathematical(0x1d434, 0x1d44e, null, { h: '\u210e' }),
    mathSansBold: mathematical(0x1d5d4, 0x1d5ee, 0x1d7ec),
    mathMonospace: mathematical(0x1d670, 0x1d68a, 0x1d7f6),
    mathScript: mathematical(0x1d49c, 0x1d4b6, null, {
      B: '\u212c',
      E: '\u2130',
      F: '\u2131',
      H: '\u210b',
      I: '\u2110',
      L: '\u2112',
      M: '\u2133',
      R: '\u211b',
      e: '\u212f',
      g: '\u210a',
      o: '\u2134',
    }),
  };
  /** The echo with every `\xHH`, `0xHH` and compatibility letter read back: written without the scrubber's code. */
  const readBack = (text: string) =>
    Buffer.from(
      text
        .normalize('NFKC')
        .replace(/\\+x([0-9a-f]{2})|0x([0-9a-f]{2})(?:,\s*|\s+)?/gi, (_, a?: string, b?: string) => String.fromCharCode(parseInt(a ?? b!, 16))),
      'latin1',
    )
      .toString('utf8')
      .toLowerCase();
  /** The first twelve characters in a row of any of `secrets` that `out` still spells, read back. */
  const leaked = (out: string, secrets: string[]) => {
    const back = readBack(out);
    for (const secret of secrets) {
      const s = secret.toLowerCase();
      for (let at = 0; at + 12 <= s.length; at++) if (back.includes(s.slice(at, at + 12))) return s.slice(at, at + 12);
    }
    return leakedForm(out, secrets[0]!);
  };
  const CASES: Array<[name: string, secret: string, echoed: string, sensitive: string[]]> = [
    ['bearer', bearer, bearer, [bearer, hxToken]],
    ['bearer token alone', bearer, hxToken, [hxToken]],
    ['splunk', splunk, splunk, [splunk, splunkToken, splunkToken.replace(/-/g, '')]],
    ['splunk uuid alone', splunk, splunkToken, [splunkToken, splunkToken.replace(/-/g, '')]],
    ['basic password', basic, password, [password]],
  ];

  for (const [dump, spell] of Object.entries(DUMPS)) {
    it(`a hex dump with a prefix before each byte (${dump}) goes whole, and what is around it stays`, () => {
      for (const [name, secret, echoed, sensitive] of CASES) {
        const scrub = secretScrubber([secret]);
        const out = scrub(`{"error":"bad request","dump":"${spell(echoed)}","n":1}`);
        expect(out, `${name}: ${out}`).toBe(`{"error":"bad request","dump":"${REDACTED}","n":1}`);
        // The whole request dumped: the header's name and the next line stay readable.
        const request = spell(`POST /services/collector HTTP/1.1\r\nAuthorization: ${echoed}\r\nHost: siem.example.com\r\n`);
        const inRequest = scrub(`request: ${request} (400)`);
        expect(leaked(inRequest, sensitive), `${name}: ${inRequest}`).toBeNull();
        expect(inRequest, name).toContain(REDACTED);
        expect(readBack(inRequest), name).toContain('authorization: ');
        expect(readBack(inRequest), name).toContain('host: siem.example.com');
        // Cut inside it: the end goes.
        const cut = scrub(`dump ${spell(echoed).slice(0, Math.floor(spell(echoed).length * 0.6))}`, true);
        expect(cut, `${name} cut: ${cut}`).toBe(`dump ${REDACTED}`);
      }
    });
  }

  for (const [letters, spell] of Object.entries(LETTERS)) {
    it(`a credential in compatibility letters (${letters}) goes whole, and what is around it stays`, () => {
      for (const [name, secret, echoed, sensitive] of CASES) {
        const scrub = secretScrubber([secret]);
        const out = scrub(`{"error":"invalid credential ${spell(echoed)} for input","n":1}`);
        expect(out, `${name}: ${out}`).toBe(`{"error":"invalid credential ${REDACTED} for input","n":1}`);
        expect(leaked(out, sensitive), name).toBeNull();
        // Half of it, wherever it stands, goes too (a piece).
        const half = [...echoed].slice(0, Math.ceil([...echoed].length * 0.6)).join('');
        expect(leaked(scrub(`key ${spell(half)}... refused`), sensitive), `${name} piece`).toBeNull();
        // Cut inside it: the end goes; cut between the two halves of a mathematical letter too.
        expect(scrub(`denied ${spell(half)}`, true), `${name} cut`).toBe(`denied ${REDACTED}`);
        expect(scrub(`denied ${spell(half).slice(0, -1)}`, true), `${name} cut in a letter`).toBe(`denied ${REDACTED}`);
      }
    });
  }

  it('ordinary answers with hex ids, escape codes written out, byte arrays and full-width text stay as they are', () => {
    const scrub = secretScrubber([bearer, splunk, basic]);
    for (const text of [
      'error 0x1f at offset 0x80070005: \\x1b[31mFAILED\\x1b[0m',
      'HRESULT 0x8007000E; status 0x1f; flags=0x20,0x01',
      'unsigned char magic[] = { 0x1f, 0x8b, 0x08, 0x00 };',
      "b'\\x00\\x01\\xff\\xfe' (4 bytes)",
      '{"message":"\\xc3\\xa9chec de l\'authentification"}',
      'エラー：認証に失敗しました（コード４０１）。',
      'Ｈｅｌｌｏ　ｗｏｒｌｄ, 𝐁𝐨𝐥𝐝 𝑖𝑡𝑎𝑙𝑖𝑐 ℎ',
    ]) {
      expect(scrub(text), text).toBe(text);
      expect(scrub(text, true), text).toBe(text);
    }
  });

  it('a secret that ends in the start of a byte, echoed before more hex digits, is found as written', () => {
    // Decoded, `0x4f` and `\x4f` are one character, and the secret's last ones are gone from the reading.
    for (const secret of ['k3y!0x4', 'k3y!\\x4', 'k3y!\\x']) {
      const out = secretScrubber([secret])(`key ${secret}f refused`);
      expect(out, secret).not.toContain('k3y');
      expect(out, secret).toMatch(/^key \[redacted\].{0,4}f refused$/);
    }
  });

  // Linear, not timed: a quadratic path takes minutes on these and meets the test's ceiling.
  it('a megabyte of cut or repeated byte escapes, byte arrays and compatibility letters stays linear', () => {
    const scrub = secretScrubber([bearer, splunk, basic, 'A'.repeat(24)]);
    const MiB = 1 << 20;
    const fill = (unit: string) => unit.repeat(Math.ceil(MiB / unit.length));
    for (const text of [
      fill('\\x4'),
      fill('\\x'),
      fill('\\x41'),
      fill('\\\\\\x4'),
      fill('\\xc3'),
      fill('\\xe2\\x82'),
      fill('0x'),
      fill('0x4'),
      fill('0x41'),
      fill('0x41, '),
      fill('0x41,'),
      fill('0xc3, '),
      `0x41${' '.repeat(MiB)}`,
      fill('0x41, , '),
      fill('Ａ'),
      fill('ａ＼ｘ４'),
      fill('\u{1d400}'),
      fill('\ud835'),
      fill('\u3000'),
    ]) {
      // The repeated A spells the secret of A's wherever it is read as one.
      const out = scrub(text);
      const cut = scrub(text, true);
      for (const o of [out, cut]) {
        if (o === text) continue;
        expect(readBack(o.replaceAll(REDACTED, '')).toLowerCase(), text.slice(0, 12)).not.toContain('a'.repeat(24));
      }
    }
    // Spelled over and over: nothing of the credential is left.
    const dumped = fill(`${DUMPS.pythonRepr!(bearer)} `);
    expect(leaked(scrub(dumped), [bearer, hxToken])).toBeNull();
    const array = fill(`${DUMPS.cArray!(hxToken)}, `);
    expect(leaked(scrub(array), [hxToken])).toBeNull();
    const wide = fill(`${fullWidth(hxToken)} `);
    expect(leaked(scrub(wide), [hxToken])).toBeNull();
  });
});

describe('a secret of escape starts (a hostile token endpoint sets the access token)', () => {
  // An access token is a tenant's token endpoint's to choose: 16 KiB of backslashes and one letter
  // cost 451 ms per scrubber built where the trailing escape starts were stripped by a pattern
  // anchored at the end (tried from every position), and a worker builds one per new token. The
  // test's timeout is the ceiling: quadratic, these would take minutes.
  it.each(['\\', '0x4\\'])('builds a scrubber for 256 KiB of %j and a letter, and uses it', (unit) => {
    const secret = unit.repeat(Math.ceil(262_144 / unit.length)) + 'a';
    const scrub = secretScrubber([secret]);
    expect(scrub(`token ${secret} refused`)).not.toContain(secret.slice(-64));
  });
});
