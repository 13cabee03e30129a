import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEventsText } from './validateText.js';

const exampleText = readFileSync(new URL('./fixtures/product-page-example.json', import.meta.url), 'utf8');
const example = JSON.parse(exampleText);
const compact = JSON.stringify(example);
const bad = JSON.stringify({ ...example, extra: 1 });

describe('validateEventsText', () => {
  it('accepts one pretty-printed object', () => {
    expect(validateEventsText(exampleText)).toEqual([{ index: 0, line: 1, violations: [], format: 'ecs' }]);
  });

  it('accepts a JSON array and reports each element', () => {
    const r = validateEventsText(`[${compact},${bad}]`);
    expect(r.map((x) => x.index)).toEqual([0, 1]);
    expect(r[0]!.violations).toEqual([]);
    expect(r[1]!.violations.map((v) => v.path)).toEqual(['/extra']);
  });

  it('accepts NDJSON, ignoring blank lines, with line numbers', () => {
    const r = validateEventsText(`${compact}\n\n${bad}\r\n${compact}\n`);
    expect(r.map((x) => [x.index, x.line, x.violations.length])).toEqual([
      [0, 1, 0],
      [1, 3, 1],
      [2, 4, 0],
    ]);
  });

  it('reports NDJSON parse errors with their line, and never echoes the content', () => {
    const r = validateEventsText(`${compact}\n{"summary": "123-45-6789",\n${compact}`);
    expect(r[1]).toEqual({ index: 1, line: 2, violations: [{ path: 'line 2', message: expect.stringMatching(/^invalid JSON/) }] });
    expect(JSON.stringify(r)).not.toContain('123-45-6789');
    expect(r[2]!.violations).toEqual([]);
  });

  // The parser names the character it stopped at, as is: an escape sequence in a file reached the
  // terminal that printed the report ("Unexpected token '\u001b'" coloured the rest of the line).
  it('names a control or format character the parser stopped at by its code, never as is', () => {
    for (const [c, code] of [
      ['\u001b', '\\u001b'],
      ['\u0007', '\\u0007'],
      ['\u009b', '\\u009b'],
      ['\u202e', '\\u202e'],
      ['\u2028', '\\u2028'],
      // A tag character (format, past 16 bits): the parser names its first half.
      ['\u{e0041}', '\\udb40'],
    ]) {
      const [r] = validateEventsText(`{"a": ${c!}[31m}`);
      const message = r!.violations[0]!.message;
      expect(message, code).toMatch(/^invalid JSON/);
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      expect(message, code).not.toMatch(/[\u0000-\u001f\u007f-\u009f\p{Cf}\u2028\u2029\ud800-\udfff]/u);
      expect(message, code).toContain(code);
    }
  });

  it("keeps the parser's reason and never a fragment of the document", () => {
    const message = (text: string) => validateEventsText(text)[0]!.violations[0]!.message;
    // A long document: V8 quotes the part around the error ('..."23456789, x], ..."...').
    const long = message(`{"${'p'.repeat(40)}": 1, "n": [123456789, x], "q": 1}`);
    expect(long).toBe("invalid JSON: Unexpected token 'x'");
    expect(message('[1 2]')).toBe("invalid JSON: Expected ',' or ']' after array element");
    expect(message('{"a": 1 "b": 2}')).toBe("invalid JSON: Expected ',' or '}' after property value");
    expect(message('{"a" 1}')).toBe("invalid JSON: Expected ':' after property name");
    // The document alone, quoted: nothing of it.
    expect(message('ssn123456789')).not.toMatch(/ssn|123/);
    expect(message('{"a": "b" "123-45-6789"}')).not.toContain('123');
    // The character named may be a quote.
    expect(message('["a"]"')).toBe('invalid JSON: Unexpected non-whitespace character after JSON');
  });

  it('reports a broken first NDJSON line and still validates the others', () => {
    const r = validateEventsText(`{"@timestamp": \n${compact}\n${bad}`);
    expect(r.map((x) => [x.line, x.violations.map((v) => v.path)])).toEqual([
      [1, ['line 1']],
      [2, []],
      [3, ['/extra']],
    ]);
  });

  it('reports a broken pretty-printed object once, with the line of the error', () => {
    const broken = exampleText.replace('"kind": "event",', '"kind": "event",,');
    const r = validateEventsText(broken);
    expect(r).toHaveLength(1);
    expect(r[0]!.violations[0]!.path).toBe('line 5');
    expect(r[0]!.violations[0]!.message).toMatch(/^invalid JSON/);
  });

  it('refuses empty input, an empty array and non-object lines', () => {
    expect(validateEventsText('  \n')[0]!.violations[0]!.message).toMatch(/empty/);
    expect(validateEventsText('[]')[0]!.violations[0]!.message).toMatch(/empty/);
    const r = validateEventsText(`${compact}\n42\n`);
    expect(r[1]!.violations).toEqual([{ path: 'line 2', message: 'each line must be one JSON object' }]);
  });

  it('validates agent records with kind "agent"', () => {
    const rec = { ...example.aegis, preflight_id: 'pflt_abcdefgh' };
    expect(validateEventsText(JSON.stringify(rec), { kind: 'agent' })[0]!.violations).toEqual([]);
    expect(validateEventsText(JSON.stringify(rec))[0]!.violations.length).toBeGreaterThan(0);
  });

  it('refuses raw values hidden in identifiers (issue #14), naming the field only', () => {
    const aegis = { ...example.aegis, preflight_id: 'pflt_4111111111111111', policy_id: 'ip_10.1.2.3' };
    const wire = JSON.stringify({ ...example, event: { ...example.event, id: aegis.preflight_id }, aegis });
    const [report] = validateEventsText(wire);
    expect(report!.violations.map((v) => v.path).sort()).toEqual(['/aegis/policy_id', '/aegis/preflight_id']);
    expect(JSON.stringify(report)).not.toContain('4111111111111111');
    const agent = validateEventsText(
      JSON.stringify({
        ...example.aegis,
        preflight_id: 'pflt_abcdefgh123',
        policy_version: 'v4111111111111111',
        finding_counts_by_type: { SSN_123_45_6789: 1 },
      }),
      { kind: 'agent' },
    );
    expect(agent[0]!.violations.map((v) => v.path).sort()).toEqual(['/finding_counts_by_type', '/policy_version']);
  });
});
