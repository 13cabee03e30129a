// Keys written for tests in each provider's documented shape, from a fixed sequence: no real key, and
// the same characters on every run.
export const HEX = '0123456789abcdef';
export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const BASE64URL = `${ALNUM}-_`;

/** `length` characters of `alphabet`, a linear congruential sequence from `seed`. */
export function randomOf(alphabet: string, length: number, seed = 11): string {
  let x = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += alphabet[(x >> 16) % alphabet.length];
  }
  return out;
}
