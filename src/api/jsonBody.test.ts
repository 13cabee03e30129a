import { describe, expect, it } from 'vitest';
import { countsPast } from './jsonBody.js';

const past = (text: string, cap: number) => countsPast(Buffer.from(text, 'utf8'), cap);

describe('countsPast: JSON values counted before parsing', () => {
  it('counts braces, brackets and commas outside strings', () => {
    expect(past('[{},{},{}]', 6)).toBe(false);
    expect(past('[{},{},{}]', 5)).toBe(true);
    expect(past('{"a":1,"b":[1,2]}', 4)).toBe(false);
    expect(past('{"a":1,"b":[1,2]}', 3)).toBe(true);
  });

  it('skips strings, whatever they hold: escaped quotes, backslash runs, punctuation, UTF-8', () => {
    expect(past(JSON.stringify({ s: ',,,[[[{{{' }), 1)).toBe(false);
    expect(past(JSON.stringify({ s: 'a\\"b,c' }), 1)).toBe(false);
    // A string ending in backslashes: its closing quote follows an even run of them.
    expect(past(JSON.stringify({ s: 'x\\\\', t: ',,,' }), 2)).toBe(false);
    expect(past(JSON.stringify({ s: 'x\\\\', t: 1, u: 2 }), 2)).toBe(true);
    expect(past(JSON.stringify({ s: 'é€😀,,', t: [1, 2] }), 4)).toBe(false);
    expect(past(JSON.stringify({ s: 'é€😀,,', t: [1, 2] }), 3)).toBe(true);
  });

  it('leaves malformed text to the parser', () => {
    expect(past('{"unterminated,,,,', 1)).toBe(false);
  });
});
