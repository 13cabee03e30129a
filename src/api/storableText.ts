// Every string of a JSON request body must be storable text: PostgreSQL refuses NUL (U+0000) in text
// and json values, and an unpaired UTF-16 surrogate is not Unicode at all (it would be refused, or
// silently turned into U+FFFD, depending on the column and the driver). Checked once for every JSON
// body, before schema validation, so no field needs its own check and none can be forgotten.
//
// The same walk bounds how deeply a body nests. JSON.parse builds a body of any depth without
// recursing, but much of what reads a body afterwards recurses (Ajv's compiled validators for open
// schemas, JSON.stringify, the filter validator, a recursive walk like this one used to be): a 12 KB
// body of 6000 nested arrays, sent to a route that needs no credentials, overflowed the call stack
// and answered 500 with an error logged. No body the API takes comes near the limit (a filter, the
// deepest, is at most FILTER_LIMITS.maxDepth conditions deep).
import type { FastifyInstance } from 'fastify';
import { invalid, pointerSegment } from '../errors.js';
import { isStorableText } from '../db/storable.js';
import { safeSegment } from '../events/privacyGuard.js';

/** Levels of objects and arrays inside one another a request body may have (the body itself is one). */
export const MAX_BODY_DEPTH = 64;

const UNSTORABLE = 'contains a NUL character (\\u0000) or an unpaired surrogate, which cannot be stored as text';
const TOO_DEEP = `nests deeper than ${MAX_BODY_DEPTH} levels of objects and arrays`;
/**
 * A NUL in a text that is only scanned: the scan reads it as a space, and a UTF-16 text read as UTF-8
 * (a NUL after every ASCII letter) then holds no value any detector reads. A review's such input was
 * answered ALLOWED with an SSN, a card and a token in it unmasked; refused, the client learns why.
 */
const NUL_IN_SCANNED = 'contains NUL characters (\\u0000), as UTF-16 text read as UTF-8 does; decode the text as UTF-16 (or remove them) and send it again';

export interface BodyProblem {
  /** Where: `options.index`, `events[2].summary`, `body`; property names as safeSegment shows them. */
  field: string;
  /** The same place as a JSON Pointer ("" for the body), built from the segments, not the dotted name. */
  pointer: string;
  message: string;
}

/** An object or array being walked: its keys (null for an array), the next child, and how it was reached. */
interface Frame {
  readonly node: object;
  readonly keys: string[] | null;
  readonly length: number;
  next: number;
  readonly parent: Frame | null;
  /** The key or index under which the parent holds this node (unused for the body itself). */
  readonly at: string | number;
}

function frame(node: object, parent: Frame | null, at: string | number): Frame {
  const keys = Array.isArray(node) ? null : Object.keys(node);
  return { node, keys, length: keys === null ? (node as unknown[]).length : keys.length, next: 0, parent, at };
}

/**
 * The path to `last` inside `holder`, built only for a refusal, as a name (`options.index`,
 * `events[2].summary`) and as a JSON Pointer: every property name on it passes through safeSegment,
 * which scans it with every detector (a name can itself be a secret or an email address, on any level
 * of the path, and one holding NUL or a lone surrogate is never plain enough to show). Indices are the
 * service's own numbers and shown as they are. The pointer is built from the segments themselves: read
 * back from the name, a key holding "." (every filter key: "aegis.actor_id") split in two (an
 * attacker's review).
 */
function pathTo(holder: Frame, last: string | number): { field: string; pointer: string } {
  const segments = [last];
  for (let f: Frame = holder; f.parent !== null; f = f.parent) segments.push(f.at);
  let path = '';
  let pointer = '';
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i]!;
    const shown = typeof s === 'number' ? String(s) : safeSegment(s);
    path += typeof s === 'number' ? `[${s}]` : `${path === '' ? '' : '.'}${shown}`;
    pointer += pointerSegment(shown);
  }
  return { field: path.startsWith('[') ? `body${path}` : path, pointer };
}

/**
 * The first problem of a parsed JSON body, in document order, or null: a string or property name
 * that is not storable text, or nesting deeper than MAX_BODY_DEPTH. Walked with an explicit stack
 * of at most MAX_BODY_DEPTH frames, so no body, however deep, can overflow the call stack here.
 */
export function findBodyProblem(body: unknown, unstored: readonly string[] = []): BodyProblem | null {
  if (typeof body === 'string') return isStorableText(body) ? null : { field: 'body', pointer: '', message: UNSTORABLE };
  if (body === null || typeof body !== 'object') return null;
  const stack: Frame[] = [frame(body, null, '')];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.length) {
      stack.pop();
      continue;
    }
    const i = top.next++;
    let at: string | number = i;
    let child: unknown;
    if (top.keys === null) child = (top.node as unknown[])[i];
    else {
      at = top.keys[i]!;
      if (!isStorableText(at)) return { ...pathTo(top, at), message: UNSTORABLE };
      child = (top.node as Record<string, unknown>)[at];
    }
    if (typeof child === 'string') {
      if (!isStorableText(child)) {
        if (!(top.parent === null && unstored.includes(at as string))) return { ...pathTo(top, at), message: UNSTORABLE };
        if (child.includes('\u0000')) return { ...pathTo(top, at), message: NUL_IN_SCANNED };
      }
    } else if (child !== null && typeof child === 'object') {
      // Named as the body, not by its path: that would be MAX_BODY_DEPTH segments long.
      if (stack.length >= MAX_BODY_DEPTH) return { field: 'body', pointer: '', message: TOO_DEEP };
      stack.push(frame(child, top, at));
    }
  }
  return null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Top-level string fields of this route's body that are read and never stored, so may hold a lone
     * surrogate: preflight's `input`, scanned and answered masked. A lone surrogate is what a client
     * splitting a text by index cuts an emoji into (the 413's own advice), and the scan reads around
     * it. A NUL is still refused there, with its likely cause (NUL_IN_SCANNED).
     */
    unstoredFields?: readonly string[];
  }
}

export function refuseUnstorableText(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    const problem = findBodyProblem(req.body, req.routeOptions.config.unstoredFields);
    if (problem !== null) throw invalid(problem.field, problem.message, problem.pointer);
  });
}
