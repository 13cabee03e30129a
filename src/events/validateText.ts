/**
 * Validates events given as text (the CLI's `aegis-stream validate-event FILE|-`): one JSON object, a
 * JSON array of objects, or newline-delimited JSON (one object per line, blank lines ignored). Parse
 * errors are reported as violations with their line number. Each event is read as the format it is:
 * an OCSF event (looksLikeOcsf: a metadata object and a class_uid that is a number, or a numeric string
 * beside metadata.version/product; no `aegis` object: what a destination with `"format": "ocsf"`
 * receives) is checked against the OCSF 1.8.0 class it claims (ocsfSchema.ts), any
 * other with validateWireEvent (ECS; or validateAgentRecord with kind "agent"). Events captured inside
 * a SIEM envelope this service produces (Splunk HEC, Datadog, Elastic _bulk, New Relic, Sentinel) are
 * unwrapped first.
 */
import { validateAgentRecord, validateWireEvent } from './validate.js';
import type { Violation } from './violation.js';
import { unwrapEnvelope, type EnvelopeName } from './envelopes.js';
import { looksLikeOcsf, ocsfViolations } from './ocsfSchema.js';

/** The format an event was read as: the ECS wire event, or OCSF 1.8.0. */
export type EventFormat = 'ecs' | 'ocsf';

export interface EventReport {
  /** 0-based position of the event in the array or stream (for NDJSON: among non-blank lines). */
  index: number;
  /** 1-based line where the event starts, when known. */
  line?: number;
  violations: Violation[];
  /** The SIEM envelope the event was taken out of (wire events only), when it came in one. */
  envelope?: EnvelopeName;
  /** The format the event was read as (wire events that parsed only). */
  format?: EventFormat;
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
  // Keep the parser's reason but never the document's content: V8 quotes a snippet after it
  // ('Unexpected token \'}\', "{"a": 1,}" is not valid JSON', or '..."23456789, x]"...' from a long
  // document), or the document alone ('"undefined" is not valid JSON'), which could hold a raw value.
  // The reason ends where a double quote, the position or the line starts; the one character it may
  // name is taken first, since that character may be a quote itself.
  const token = /^Unexpected token '([\s\S])'/.exec(msg);
  const reason = (token ? `Unexpected token '${token[1]}'` : (msg.split(/"| in JSON\b| at position \d|\s*\(line /)[0] ?? '').trim()).replace(
    UNPRINTABLE,
    codeOf,
  );
  return `invalid JSON${reason ? `: ${reason}` : ''}`;
}

/**
 * Characters the report must not print as they are: controls (an escape sequence recolours or rewrites
 * the terminal showing the report), format characters (a bidi override reorders what is read) and the
 * line and paragraph separators, and half a surrogate pair (V8 names the first 16 bits of a character
 * past them, "\u{e0041}" a tag character). The parser names the one it stopped at, quoted; its code is shown.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\p{Cf}\u2028\u2029\ud800-\udfff]/gu;
/** A character as its escape: "\u001b", or "\u{e0041}" past the 16-bit range (a tag character). */
function codeOf(c: string): string {
  const code = c.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error };
  }
}

export function validateEventsText(text: string, options: ValidateTextOptions = {}): EventReport[] {
  const agent = options.kind === 'agent';
  const read = (x: unknown): { violations: Violation[]; format?: EventFormat } => {
    if (agent) return { violations: validateAgentRecord(x) };
    if (looksLikeOcsf(x)) return { violations: ocsfViolations(x), format: 'ocsf' };
    return { violations: validateWireEvent(x), format: 'ecs' };
  };
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = src.trim();
  if (trimmed === '') return [{ index: 0, violations: [{ path: '', message: 'no events: the input is empty' }] }];

  // One parsed document -> the events it holds, each with the envelope it came in.
  const expand = (doc: unknown): { event: unknown; envelope?: EnvelopeName }[] => {
    if (agent) return [{ event: doc }];
    const u = unwrapEnvelope(doc);
    return u.events.map((event) => (u.envelope ? { event, envelope: u.envelope } : { event }));
  };
  let next = 0;
  // An Elastic _bulk action line holds no event; it names the envelope of the line after it.
  let carried: EnvelopeName | undefined;
  const reportsFor = (doc: unknown, line?: number): EventReport[] => {
    const found = expand(doc);
    if (found.length === 0) {
      carried = agent ? undefined : (unwrapEnvelope(doc).envelope ?? undefined);
      return [];
    }
    const fromAction = carried;
    carried = undefined;
    // After an Elastic action line the document is part of that _bulk body, whatever it looks like alone.
    return found.map(({ event, envelope }) => {
      const env = fromAction ?? envelope;
      const { violations, format } = read(event);
      return {
        index: next++,
        ...(line !== undefined ? { line } : {}),
        violations,
        ...(env ? { envelope: env } : {}),
        ...(format ? { format } : {}),
      };
    });
  };

  const whole = tryParse(src);
  if (whole.ok) {
    if (Array.isArray(whole.value)) {
      if (whole.value.length === 0) return [{ index: 0, violations: [{ path: '', message: 'no events: the array is empty' }] }];
      return whole.value.flatMap((v) => reportsFor(v));
    }
    return reportsFor(whole.value, lineOfOffset(src, src.length - src.trimStart().length));
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
    return [
      {
        index: 0,
        ...(line !== undefined ? { line } : {}),
        violations: [{ path: line !== undefined ? `line ${line}` : '', message: parseMessage(whole.error) }],
      },
    ];
  }
  const reports: EventReport[] = [];
  lines.forEach((raw, i) => {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (l.trim() === '') return;
    const line = i + 1;
    const parsed = tryParse(l);
    if (!parsed.ok) {
      reports.push({ index: next++, line, violations: [{ path: `line ${line}`, message: parseMessage(parsed.error) }] });
    } else if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      reports.push({ index: next++, line, violations: [{ path: `line ${line}`, message: 'each line must be one JSON object' }] });
    } else {
      reports.push(...reportsFor(parsed.value, line));
    }
  });
  return reports;
}
