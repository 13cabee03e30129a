// The spellings a hostile or careless receiver can echo a credential in, and an independent detector
// for them, shared by the scrubber's unit test and the end-to-end leak tests. Deliberately written
// without the production scrubber's code, so a mistake there cannot hide here.

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/** The secret and the parts of it that are secrets on their own (the token after a scheme). */
export function sensitiveParts(secret: string): string[] {
  const parts = [secret];
  for (const piece of secret.split(' ').slice(1)) {
    if (piece.length >= 8) parts.push(piece);
    const decoded = Buffer.from(piece, 'base64').toString('latin1');
    const colon = decoded.indexOf(':');
    if (/^[\x20-\x7e]+$/.test(decoded) && colon > 0) parts.push(decoded.slice(colon + 1));
  }
  const whsec = /^whsec_(.+)$/.exec(secret);
  if (whsec) parts.push(whsec[1]!);
  return parts;
}

/** Echoed spellings of `secret`, by name. */
export function echoedForms(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret, 'utf8');
  const token = secret.includes(' ') ? secret.slice(secret.lastIndexOf(' ') + 1) : secret;
  const escapeAll = (upper: boolean) =>
    [...secret]
      .map((c) => {
        if (/[A-Za-z0-9]/.test(c)) return c;
        const h = c.charCodeAt(0).toString(16).padStart(4, '0');
        return `\\u${upper ? h.toUpperCase() : h}`;
      })
      .join('');
  return {
    verbatim: secret,
    lowerCase: secret.toLowerCase(),
    upperCase: secret.toUpperCase(),
    jsonSlash: JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/'),
    jsonUnicodeLower: escapeAll(false),
    jsonUnicodeUpper: escapeAll(true),
    percentUpper: encodeURIComponent(secret),
    percentLower: encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    percentEveryByte: [...bytes].map((b) => `%${hex2(b)}`).join(''),
    formEncoded: encodeURIComponent(secret).replace(/%20/g, '+'),
    base64: bytes.toString('base64'),
    base64url: bytes.toString('base64url'),
    base64Offset1: Buffer.from(`x${secret}`).toString('base64'),
    base64Offset2: Buffer.from(`Authorization: ${secret}`).toString('base64'),
    base64urlOffset2: Buffer.from(`xy${secret}!`).toString('base64url'),
    base64JsonEscaped: JSON.stringify(bytes.toString('base64')).slice(1, -1).replace(/\//g, '\\/'),
    hex: bytes.toString('hex'),
    // Separators put between its characters: spaced out, and a hexdump of the request.
    spacedOut: [...secret].join(' '),
    hexdump: [...bytes].map(hex2).join(' '),
    tokenOnly: token,
    tokenPercent: encodeURIComponent(token),
  };
}

/** Strings that betray `part` in any echoed spelling (case-folded where the spelling allows it). */
function telltales(part: string): { text: string; caseless: boolean }[] {
  const out: { text: string; caseless: boolean }[] = [
    { text: part, caseless: true },
    { text: JSON.stringify(part).slice(1, -1).replace(/\//g, '\\/'), caseless: true },
    { text: encodeURIComponent(part), caseless: true },
    { text: Buffer.from(part).toString('hex'), caseless: true },
  ];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.from(`${'x'.repeat(k)}${part}`).toString('base64');
    // Drop the characters the prefix and the unknown suffix can change.
    const middle = b64.slice(4, -4);
    if (middle.length >= 8) {
      out.push({ text: middle, caseless: false }, { text: middle.replace(/\+/g, '-').replace(/\//g, '_'), caseless: false });
      out.push({ text: middle.replace(/\//g, '\\/'), caseless: false }, { text: encodeURIComponent(middle), caseless: true });
    }
  }
  return out;
}

/** The first telltale of `secret` found in `text`, or null when it appears in no form. */
export function leakedForm(text: string, secret: string): string | null {
  return leakScanner(text)(secret);
}

/**
 * leakedForm for many secrets over one text: the case-folded and the decoded text are made once, not
 * once per secret (a test's whole log and database dump are megabytes, checked for dozens of secrets).
 */
export function leakScanner(text: string): (secret: string) => string | null {
  const lower = text.toLowerCase();
  // Any \u-escaped or percent-encoded spelling decodes back to the part.
  const decoded = text
    .replace(/\\u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\\//g, '/')
    .replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .toLowerCase();
  let skeletonOfText: string | undefined;
  return (secret) => {
    for (const part of sensitiveParts(secret)) {
      for (const t of telltales(part)) {
        if (t.text.length < 6) continue;
        if (t.caseless ? lower.includes(t.text.toLowerCase()) : text.includes(t.text)) return t.text;
      }
    }
    for (const part of sensitiveParts(secret)) if (decoded.includes(part.toLowerCase())) return `decoded:${part}`;
    // Its letters and digits with anything between them (a secret spelled out with separators), and
    // its hex form's.
    for (const part of sensitiveParts(secret)) {
      for (const spelled of [part, Buffer.from(part).toString('hex')]) {
        const core = skeleton(spelled);
        if (core.length >= 12 && (skeletonOfText ??= skeleton(text)).includes(core)) return `skeleton:${spelled}`;
      }
    }
    return null;
  };
}

const skeleton = (text: string) => text.toLowerCase().replace(/[^0-9a-z]+/g, '');
