// What PostgreSQL can store as text: no NUL (U+0000), which it refuses in text and json values, and no
// unpaired UTF-16 surrogate, which is not Unicode at all (refused, or silently turned into U+FFFD,
// depending on the column and the driver). One rule for what the API refuses (api/storableText.ts)
// and for what the worker makes storable (a SIEM's answer, delivery/scrubSecrets.ts).

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/**
 * Text the service did not write (a SIEM's answer), made storable: NULs dropped, so an answer in
 * UTF-16 reads as its text and a value spelled with NULs between its characters is that value, and
 * every unpaired surrogate replaced by U+FFFD. `nul` replaces each NUL instead where it must stay
 * visible (a refused key named in an error message: U+FFFD).
 */
export function storableText(text: string, nul = ''): string {
  return isStorableText(text) ? text : text.replaceAll('\u0000', nul).replace(LONE_SURROGATES, '\uFFFD');
}
