import { describe, expect, it } from 'vitest';
import { StoredEvent } from './storedEvent.js';
import { eventJson, type SiemEvent } from './types.js';
import { sampleEvent } from './testEvents.js';

/** The eventJson of the event parsed from `text`, after offering it `text`, and whether it was taken. */
function viaStored(text: string): { event: SiemEvent; json: string; taken: boolean } {
  const event = new StoredEvent(text);
  const taken = event.storedJson !== undefined;
  return { event, json: eventJson(event), taken };
}

/**
 * Whether `text` was taken as is. Not `json === text`: for a text in stringify's form a fresh
 * JSON.stringify gives an equal string, so only storedJson's answer tells the two apart.
 */
function adopted(text: string): boolean {
  const { json, taken } = viaStored(text);
  if (taken) expect(json).toBe(text);
  return taken;
}

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('StoredEvent: the stored payload text is reused only when JSON.stringify writes it so', () => {
  it('takes what JSON.stringify wrote, and eventJson then hands back that very text', () => {
    for (let i = 1; i <= 5; i++) {
      const text = JSON.stringify(sampleEvent(i));
      expect(adopted(text)).toBe(true);
    }
    const tricky = {
      '@timestamp': '2026-05-15T10:33:21.456000+00:00',
      event: { id: 'pflt_a', dataset: 'aegis.preflight', type: ['allowed'] },
      aegis: { summary: 'quote " backslash \\ tab \t newline \n slash / é 日本 \u2028 😀 \u0001 \u001f', zeta: 1, alpha: -2, big: 123456789012345 },
      organization: { id: 'org_a' },
    };
    expect(adopted(JSON.stringify(tricky))).toBe(true);
    // Separators inside strings are the strings' own: a summary naming two findings is still taken.
    const listed = { ...tricky, aegis: { summary: 'Detected email, phone; blocked.', note: 'k: v, [x], {y}', n: 0 } };
    expect(adopted(JSON.stringify(listed))).toBe(true);
  });

  it('leaves every other spelling to JSON.stringify: the event is sent exactly as before', () => {
    const base = { '@timestamp': 't', event: { id: 'e', dataset: 'd' }, aegis: { summary: 's', n: 1 }, organization: { id: 'o' } };
    const others = [
      // jsonb's rendering, json_build_object's, pretty-printed, padded.
      '{"event": {"id": "e", "dataset": "d"}, "aegis": {"n": 1, "summary": "s"}, "@timestamp": "t", "organization": {"id": "o"}}',
      '{"@timestamp" : "t", "event" : {"id" : "e", "dataset" : "d"}, "aegis" : {"summary" : "s", "n" : 1}, "organization" : {"id" : "o"}}',
      JSON.stringify(base, null, 2),
      ` ${JSON.stringify(base)}`,
      `${JSON.stringify(base)}\n`,
      // Escapes JSON.stringify does not write.
      '{"event":{"id":"\\u0065","dataset":"d"},"aegis":{"summary":"a\\/b"}}',
      '{"event":{"id":"\\uD83D\\uDE00","dataset":"d"},"aegis":{"summary":"\\u001F"}}',
      '{"event":{"id":"e","dataset":"d"},"aegis":{"summary":"\\u0008\\u000a"}}',
      // Number spellings it does not write.
      '{"event":{"id":"e","dataset":"d"},"aegis":{"n":1.0}}',
      '{"event":{"id":"e","dataset":"d"},"aegis":{"n":1e3}}',
      '{"event":{"id":"e","dataset":"d"},"aegis":{"n":[1,-0]}}',
      '{"event":{"id":"e","dataset":"d"},"aegis":{"n":12345678901234567890}}',
      // An array-index key after another key (V8 lists it first).
      '{"event":{"id":"e","dataset":"d"},"aegis":{"b":1,"7":2}}',
    ];
    for (const text of others) {
      const { event, json, taken } = viaStored(text);
      expect(taken, text).toBe(false);
      expect(json, text).not.toBe(text);
      expect(json, text).toBe(JSON.stringify(event));
    }
  });

  it('never takes a text that JSON.stringify would write differently (random spellings, fixed seed)', () => {
    const random = prng(20261201);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const ws = () => pick(['', '', '', ' ', '\n', '\t', '  ', '\r\n']);
    const strings = ['a', 'b c', 'x, y', 'k: v', '{[', '', 'é', '😀', '7', '01', '__proto__', '\\', '"'];
    const str = (): string => {
      const plain = pick(strings);
      switch (Math.floor(random() * 4)) {
        case 0:
          return JSON.stringify(plain);
        case 1: // an escape of a letter, a slash or a control character, of either hex case
          return `"${plain.replace(/"/g, '\\"').replace(/\\(?!")/g, '\\\\')}${pick(['\\u0041', '\\/', '\\u001F', '\\u001f', '\\b', '\\u0008', '\\ud83d\\ude00', '\\uDE00'])}"`;
        default:
          return JSON.stringify(plain);
      }
    };
    const num = () => pick(['0', '-0', '1', '-12', '1.5', '1.50', '1e3', '1E3', '0.1', '123456789012345', '1234567890123456789', '1e21', '1e+21', '2.0']);
    const value = (depth: number): string => {
      const kind = depth > 3 ? Math.floor(random() * 3) : Math.floor(random() * 6);
      if (kind === 0) return str();
      if (kind === 1) return num();
      if (kind === 2) return pick(['true', 'false', 'null']);
      if (kind === 3) return `[${ws()}${Array.from({ length: Math.floor(random() * 3) }, () => `${ws()}${value(depth + 1)}${ws()}`).join(',')}]`;
      return object(depth + 1);
    };
    const object = (depth: number): string => {
      // Distinct keys once decoded ("\u0063" is "c"): a key twice is the one spelling left to the
      // writers, none of which writes it.
      const pool = ['"a"', '"b"', '"7"', '"10"', '"x y"', '"__proto__"', '"\\u0063"', '"d"'];
      const keys = Array.from({ length: Math.floor(random() * 4) }, () => pool.splice(Math.floor(random() * pool.length), 1)[0]!);
      return `{${ws()}${keys.map((k) => `${ws()}${k}${ws()}:${ws()}${value(depth)}${ws()}`).join(',')}}`;
    };
    let taken = 0;
    let rewritten = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = object(0);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue;
      }
      const got = viaStored(text);
      expect(got.json, text).toBe(JSON.stringify(parsed));
      if (got.taken) taken++;
      else rewritten++;
    }
    // Neither side is vacuous: compact texts are taken, and many others were offered.
    expect(taken).toBeGreaterThan(1000);
    expect(rewritten).toBeGreaterThan(1000);
  });
});
