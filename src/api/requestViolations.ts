/**
 * Every problem with a request that failed Fastify's schema validation, not only the first.
 *
 * Fastify validates with first-error ajv: cheap, and safe for any body size. When it refuses a
 * request, the same route schema is run once more with allErrors so the answer lists every problem,
 * but only for a document within the node budget (a large body made of faults would cost one error
 * object per fault); larger ones are answered with the first error.
 */
import type { FastifyError, FastifyRequest } from 'fastify';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { violationsFromAjv } from '../events/validate.js';
import { requestAjv } from './ajvOptions.js';
import { withinNodeBudget, type Violation } from '../events/violation.js';

// The options of the app's own validator, except allErrors.
const ajv = requestAjv({ allErrors: true, strict: false });
const compiled = new WeakMap<object, ValidateFunction | null>();

function compile(schema: object): ValidateFunction | null {
  if (!compiled.has(schema)) {
    let fn: ValidateFunction | null = null;
    try {
      fn = ajv.compile(schema);
    } catch {
      fn = null; // a schema this ajv cannot compile alone (e.g. a shared $ref): keep Fastify's error
    }
    compiled.set(schema, fn);
  }
  return compiled.get(schema) ?? null;
}

const INPUT: Record<string, (req: FastifyRequest) => unknown> = {
  body: (req) => req.body,
  querystring: (req) => req.query,
  params: (req) => req.params,
  headers: (req) => req.headers,
};

export function requestViolations(req: FastifyRequest, err: FastifyError): Violation[] {
  const context = err.validationContext ?? 'body';
  const value = INPUT[context]?.(req);
  const found = allViolations(req, err, context, value);
  if (context !== 'querystring') return found;
  const declared = (req.routeOptions.schema as { querystring?: { properties?: object } } | undefined)?.querystring?.properties ?? {};
  return found.map((v) => queryHint(v, value, declared));
}

function allViolations(req: FastifyRequest, err: FastifyError, context: string, value: unknown): Violation[] {
  const first = violationsFromAjv((err.validation ?? []) as ErrorObject[]);
  const schema = (req.routeOptions.schema as Record<string, unknown> | undefined)?.[context];
  if (typeof schema !== 'object' || schema === null || !withinNodeBudget(value)) return first;
  const validate = compile(schema);
  if (!validate || validate(value)) return first;
  const all = violationsFromAjv(validate.errors ?? []);
  return all.length > 0 ? all : first;
}

/**
 * A query parameter given more than once ("?limit=5&limit=6") reaches the schema as a list, which it
 * refuses as "must be string": say what the user did instead. Every parameter of the API takes one
 * value. Only for the route's own parameters: an unknown one given twice is still unknown, and told so.
 */
function queryHint(v: Violation, query: unknown, declared: object): Violation {
  const name = v.path.slice(1);
  if (!Object.hasOwn(declared, name)) return v;
  const given = typeof query === 'object' && query !== null && Object.hasOwn(query, name) ? (query as Record<string, unknown>)[name] : undefined;
  if (Array.isArray(given)) return { path: v.path, message: 'is given more than once; give it once' };
  // "since=2026-05-15T10:00:00+01:00" typed into a URL: the query string reads "+" as a space.
  if (typeof given === 'string' && (declared as Record<string, { format?: string }>)[name]?.format === 'date-time' && OFFSET_AS_SPACE.test(given)) {
    return {
      path: v.path,
      message: `must be a date-time: a "+" in a URL reads as a space, so write the offset as %2B (${given.replace(' ', '%2B')}) or give the time in UTC with Z`,
    };
  }
  return v;
}

/** A date-time whose "+hh:mm" offset arrived as " hh:mm". */
const OFFSET_AS_SPACE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})? \d{2}:\d{2}$/;
