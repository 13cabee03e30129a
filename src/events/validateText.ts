/**
 * Validates events given as text (the CLI's `aegis-stream validate-event FILE|-`): one JSON object, a
 * JSON array of objects, or newline-delimited JSON (one object per line, blank lines ignored). Parse
 * errors are reported as violations with their line number; each event is validated with
 * validateWireEvent (or validateAgentRecord with kind "agent").
 */
import { validateAgentRecord, validateWireEvent } from './validate.js';
import type { Violation } from './violation.js';

export interface EventReport {
  /** 0-based position of the event in the array or stream (for NDJSON: among non-blank lines). */
  index: number;
  /** 1-based line where the event starts, when known. */
  line?: number;
  violations: Violation[];
}

export interface ValidateTextOptions {
  /** "wire" (default): forwarded audit events. "agent": decision records for POST /audit-events. */
  kind?: 'wire' | 'agent';
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Where JSON.parse failed, as a 1-based line within `text`, when the engine says. */
function errorLine(text: string, err: unknown): number | undefined {
  const msg = err instanceof Error ? err.message : '';
  const lineCol = /line (\d+) column \d+/.exec(msg);
  if (lineCol) return Number(lineCol[1]);
  const pos = /position (\d+)/.exec(msg);
  if (pos) return lineOfOffset(text, Number(pos[1]));
  return undefined;
}

function parseMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // Keep the parser's reason but never the document's content: newer engines quote a snippet
  // ('Unexpected token }, "{"a": 1,}" is not valid JSON'), which could hold a raw value.
  const reason = (msg.split(/, "|\s*\(line /)[0] ?? '')
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/ at position \d+.*$/, '')
    .replace(/'[^']{2,}'|"[^"]*"/g, '')
    .trim();
  return `invalid JSON${reason ? `: ${reason}` : ''}`;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error };
  }
}

export function validateEventsText(text: string, options: ValidateTextOptions = {}): EventReport[] {
  const check = options.kind === 'agent' ? (x: unknown) => validateAgentRecord(x) : validateWireEvent;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = src.trim();
  if (trimmed === '') return [{ index: 0, violations: [{ path: '', message: 'no events: the input is empty' }] }];

  const whole = tryParse(src);
  if (whole.ok) {
    if (Array.isArray(whole.value)) {
      if (whole.value.length === 0) return [{ index: 0, violations: [{ path: '', message: 'no events: the array is empty' }] }];
      return whole.value.map((v, index) => ({ index, violations: check(v) }));
    }
    return [{ index: 0, line: lineOfOffset(src, src.length - src.trimStart().length), violations: check(whole.value) }];
  }

  // Not one JSON document: newline-delimited JSON when at least one line is a complete JSON object on
  // its own (so a broken first line is reported per line); otherwise a broken pretty-printed document,
  // reported once with the line of the parse error.
  const lines = src.split('\n');
  const looksNdjson = lines.some((l) => {
    const t = l.trim();
    if (!t.startsWith('{')) return false;
    const r = tryParse(t);
    return r.ok && typeof r.value === 'object' && r.value !== null;
  });
  if (!looksNdjson) {
    const line = errorLine(src, whole.error);
    return [{ index: 0, ...(line !== undefined ? { line } : {}), violations: [{ path: line !== undefined ? `line ${line}` : '', message: parseMessage(whole.error) }] }];
  }
  const reports: EventReport[] = [];
  let index = 0;
  lines.forEach((raw, i) => {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (l.trim() === '') return;
    const line = i + 1;
    const parsed = tryParse(l);
    if (!parsed.ok) {
      reports.push({ index, line, violations: [{ path: `line ${line}`, message: parseMessage(parsed.error) }] });
    } else if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      reports.push({ index, line, violations: [{ path: `line ${line}`, message: 'each line must be one JSON object' }] });
    } else {
      reports.push({ index, line, violations: check(parsed.value) });
    }
    index++;
  });
  return reports;
}
