// What the outbound client hands back never carries the request's credentials: network error
// messages and the response header values it keeps are scrubbed of every credential header value.
import { NON_CREDENTIAL_REQUEST_HEADERS } from '../../destinations/headerRules.js';
import type { Scrubber } from '../scrubSecrets.js';
import type { OutboundResult } from './types.js';

/**
 * Whether a request header's value may carry a credential: all but the headers Aegis sets that never
 * do (headerRules.ts), whatever a credential header is called (a custom webhook's may be called
 * anything). `lowerName` is the header's name in lower case.
 */
export function isCredentialHeader(lowerName: string, value: string): boolean {
  return typeof value === 'string' && value.length >= 4 && !NON_CREDENTIAL_REQUEST_HEADERS.has(lowerName);
}

/**
 * A network error's message, safe to store and show: every credential header value removed in every
 * spelling (the same scrubber the delivery path uses: escaped, encoded, case-changed), on one line,
 * bounded.
 */
export function scrubMessage(message: string, scrubber: Scrubber): string {
  const out = scrubber(message).replace(/[\r\n]+/g, ' ');
  return out.length > 300 ? `${out.slice(0, 299)}…` : out;
}

/**
 * The answer headers anything reads, and how much of each: a redirect's target (failure.ts shows its
 * first 120 characters, without the query) and Retry-After (the retry schedule). Only these are kept,
 * and only so far: every kept value is scrubbed of our credentials on the event loop, right here,
 * before any loop budget can send the work elsewhere, and a hostile SIEM's 16 KiB of headers, each slow
 * to scrub, took 25-30 ms of it per answer (a review's measure), every other tenant's deliveries waiting.
 */
const READ_ANSWER_HEADERS: ReadonlyArray<readonly [name: string, maxChars: number]> = [
  ['location', 512],
  ['retry-after', 64],
];

/**
 * The answer's headers that are read (READ_ANSWER_HEADERS), flattened, each value cut to its length
 * and scrubbed of our credentials: a receiver (or a proxy) that echoes the Authorization header back
 * in a response header hands it to no caller. A cut value is scrubbed as cut, so a credential's start
 * at its end goes too.
 */
export function scrubbedResponseHeaders(headers: Record<string, string | string[] | undefined>, scrubber: Scrubber): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, maxChars] of READ_ANSWER_HEADERS) {
    const value = headers[name];
    const flat = Array.isArray(value) ? value.join(', ') : value;
    if (flat === undefined) continue;
    out[name] = flat.length > maxChars ? scrubber(flat.slice(0, maxChars), true) : scrubber(flat);
  }
  return out;
}

/** A text of an answer to scrub: whole, or the start of a longer one (a body cut at its cap). */
export interface AnswerText {
  text: string;
  cut: boolean;
}

/**
 * Every text of `result` that may carry a caller's secret, in order: a network error's message, or an
 * answer's body (as cut text when truncated) then its header values. withTexts puts them back.
 */
export function answerTexts(result: OutboundResult): AnswerText[] {
  if (result.kind === 'network') return [{ text: result.message, cut: false }];
  const texts: AnswerText[] = [{ text: result.body, cut: result.truncated === true }];
  for (const value of Object.values(result.headers)) if (value !== undefined) texts.push({ text: value, cut: false });
  return texts;
}

/** `result` with answerTexts' texts replaced by `texts`, in the same order. */
export function withTexts(result: OutboundResult, texts: readonly string[]): OutboundResult {
  if (result.kind === 'network') return { ...result, message: texts[0]! };
  let i = 1;
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(result.headers)) headers[name] = value === undefined ? undefined : texts[i++]!;
  return { ...result, headers, body: texts[0]! };
}

/**
 * `result` with its body cut to `maxChars` (marked truncated, so its scrub takes the end as a
 * credential's possible start): what a caller that quotes only the start of a refusal scrubs, on the
 * event loop, of a peer that may pad its answers with text slow to scrub.
 */
export function cutAnswer(result: OutboundResult, maxChars: number): OutboundResult {
  if (result.kind === 'network' || result.body.length <= maxChars) return result;
  return { ...result, body: result.body.slice(0, maxChars), truncated: true };
}

/**
 * The whole result scrubbed of a caller's secrets, before anything reads it: a reader that clips the
 * body into a sentence first would cut a secret where the scrub can no longer match it. A truncated
 * body is scrubbed as cut text. (delivery/scrubThread.ts's scrubAnswer scrubs the same texts, large
 * ones off the event loop.)
 */
export function scrubResult(result: OutboundResult, scrub: Scrubber): OutboundResult {
  return withTexts(
    result,
    answerTexts(result).map((t) => scrub(t.text, t.cut)),
  );
}
