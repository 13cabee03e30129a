// Whether a JSON text is exactly what JSON.stringify writes for the value it parses to, decided in
// one pass over the text without building anything: the claim reads each payload as its stored text,
// and when that text is already the compact form the encoders splice it instead of serialising the
// parsed event again (siem/storedEvent.ts storedJson).
//
// The scan follows strings, so a summary holding ", " or ": " (most do) is still taken; only what lies
// between tokens, in numbers, in keys and in escapes decides. Conservative: a text is refused for
// anything JSON.stringify might write otherwise, never taken when it might. It assumes valid JSON
// (the text parsed) without a key twice (which neither JSON.stringify nor jsonb ever writes).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

const isDigit = (c: number) => c >= DIGIT_0 && c <= DIGIT_9;

/**
 * The escapes JSON.stringify writes, after the backslash: `\" \\ \b \f \n \r \t`, and `\u00xx` (lower
 * case) for the control characters without a short form. Anything else (`\/`, `\u0041`, upper-case
 * hex, `\u0008` for `\b`, an escaped surrogate) would be written differently.
 */
function stringifyEscapeAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE || c === BACKSLASH || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) return i + 1;
  if (c !== 0x75 || text.charCodeAt(i + 1) !== DIGIT_0 || text.charCodeAt(i + 2) !== DIGIT_0) return -1;
  const hi = text.charCodeAt(i + 3);
  const lo = text.charCodeAt(i + 4);
  const loDigit = isDigit(lo) ? lo - DIGIT_0 : lo >= 0x61 && lo <= 0x66 ? lo - 0x61 + 10 : -1;
  if (loDigit < 0) return -1;
  // 0x00-0x1f, less the five with a short form (0x08 \b, 0x09 \t, 0x0a \n, 0x0c \f, 0x0d \r).
  if (hi === 0x31) return i + 5;
  if (hi === DIGIT_0 && loDigit !== 8 && loDigit !== 9 && loDigit !== 10 && loDigit !== 12 && loDigit !== 13) return i + 5;
  return -1;
}

/** Whether the string between `from` and `to` (quotes excluded) is all digits: V8 lists such keys first. */
function isIndexLike(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let k = from; k < to; k++) if (!isDigit(text.charCodeAt(k))) return false;
  return true;
}

/** Whether JSON.stringify(JSON.parse(text)) === text, for a valid JSON text without a key twice. */
export function isStringifyForm(text: string): boolean {
  let i = 0;
  const n = text.length;
  // The next backslash at or after the scan (n when none is left): found once and moved only when
  // passed, so strings without escapes (nearly all) cost one indexOf for their closing quote.
  let backslash = text.indexOf('\\');
  if (backslash < 0) backslash = n;
  /** The index after the string opening at `at` (a quote), or -1 when it holds an escape stringify does not write. */
  const endOfString = (at: number): number => {
    let j = at + 1;
    for (;;) {
      const quote = text.indexOf('"', j);
      if (quote < 0) return -1;
      if (quote < backslash) return quote + 1;
      j = stringifyEscapeAt(text, backslash + 1);
      if (j < 0) return -1;
      backslash = text.indexOf('\\', j);
      if (backslash < 0) backslash = n;
    }
  };
  // Whether the next string is an object's key: after `{`, or after `,` inside an object.
  const inObject: boolean[] = [];
  let keyNext = false;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfString(i);
      if (end < 0) return false;
      if (keyNext && isIndexLike(text, i + 1, end - 1)) return false;
      keyNext = false;
      i = end;
    } else if (c === 0x7b /* { */) {
      inObject.push(true);
      keyNext = true;
      i++;
    } else if (c === 0x5b /* [ */) {
      inObject.push(false);
      keyNext = false;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      inObject.pop();
      keyNext = false;
      i++;
    } else if (c === 0x2c /* , */) {
      keyNext = inObject[inObject.length - 1] === true;
      i++;
    } else if (c === 0x3a /* : */) {
      i++;
    } else if (c === MINUS || isDigit(c)) {
      // An integer of at most 15 digits, not -0: its shortest spelling is the text's own.
      const start = c === MINUS ? i + 1 : i;
      let j = start;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      const digits = j - start;
      if (digits === 0 || digits > 15) return false;
      if (c === MINUS && digits === 1 && text.charCodeAt(start) === DIGIT_0) return false;
      const next = text.charCodeAt(j);
      if (next === 0x2e /* . */ || next === 0x65 /* e */ || next === 0x45 /* E */) return false;
      i = j;
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      // true, false, null: the text parsed, so the letters are the literal's.
      i += c === 0x66 ? 5 : 4;
    } else {
      return false; // whitespace between tokens, or anything else stringify never writes there
    }
  }
  return true;
}
