/**
 * The validator of the producer routes (POST /preflight, POST /audit-events). The producer checks the
 * body against the same published schema, with every problem listed and the privacy guard
 * (events/record.ts), so Fastify's ajv running that schema over the body first only doubled the cost
 * (about 67 ms more per 1,000-record batch) for an answer the route then threw away.
 *
 * A body the producer can read goes to it unchecked here; anything else (a body the producer cannot
 * read is always one the schema refuses) is checked by the route schema as before, and refused by the
 * error handler with every problem listed (requestViolations.ts). Params and any other part are
 * checked by ajv as on every route.
 */
import type { ErrorObject } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { requestAjv } from './ajvOptions.js';

// As Fastify sets up its own ajv (@fastify/ajv-compiler): schemas are not kept by $id (each route
// schema is self-contained and compiled once).
const ajv = requestAjv({ addUsedSchema: false });

/** A route validatorCompiler whose body check lets through every body `readable` accepts. */
export function producerValidatorCompiler(readable: (body: unknown) => boolean): FastifySchemaCompiler<unknown> {
  return ({ schema, httpPart }) => {
    const check = ajv.compile(schema as object);
    if (httpPart !== 'body') return check;
    // Shaped like an ajv validator: Fastify reads `errors` after a false answer.
    const validate = Object.assign(
      (body: unknown): boolean => {
        if (readable(body)) return true;
        const ok = check(body);
        validate.errors = check.errors;
        return ok;
      },
      { errors: null as ErrorObject[] | null | undefined },
    );
    return validate;
  };
}
