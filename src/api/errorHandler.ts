import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';
import { safeSegment } from '../events/privacyGuard.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';

function send(reply: FastifyReply, status: number, code: ErrorCode, message: string) {
  return reply.status(status).type('application/json').send({ error: { code, message } });
}

/** Turns a schema-validation error into one sentence naming the field. */
function validationMessage(err: FastifyError): { field: string; message: string } {
  const v = err.validation?.[0];
  if (!v) return { field: 'body', message: err.message };
  const ctx = err.validationContext ?? 'body';
  const base = v.instancePath ? v.instancePath.replace(/^\//, '').split('/').map(safeSegment).join('.') : '';
  const params = v.params;
  if (v.keyword === 'additionalProperties') {
    // The name comes from the client: never echo it when it looks like a secret or personal value.
    const f = [base, safeSegment(String(params.additionalProperty))].filter(Boolean).join('.');
    return { field: f, message: `${f}: unknown field (not part of the API)` };
  }
  if (v.keyword === 'required') {
    const f = [base, String(params.missingProperty)].filter(Boolean).join('.');
    return { field: f, message: `${f}: is required` };
  }
  const f = base || ctx;
  if (v.keyword === 'minProperties') {
    return { field: f, message: `${f}: send at least one field to change` };
  }
  return { field: f, message: `${f}: ${v.message ?? 'is invalid'}` };
}

/** The single place where errors become HTTP. 5xx bodies say nothing about internals. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      if (err.details?.retryAfterS) void reply.header('Retry-After', String(err.details.retryAfterS));
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return send(reply, err.status, err.code, err.message);
    }
    const fe = err;
    if (fe.validation) {
      const { message } = validationMessage(fe);
      return send(reply, 400, 'validation_failed', message);
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(reply, 400, 'invalid_json', 'The request body is not valid JSON.');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(reply, 413, 'payload_too_large', 'The request body is too large.');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(reply, 415, 'unsupported_media_type', 'Send the body as application/json.');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return send(reply, 400, 'bad_request', 'Content-Length does not match the body.');
    }
    if (fe instanceof SyntaxError) return send(reply, 400, 'invalid_json', 'The request body is not valid JSON.');
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) return send(reply, status, 'bad_request', fe.message);
    // Connection-level failures: the client did nothing wrong and a retry will work, so 503, not 500.
    if (isDatabaseUnavailable(fe)) {
      // The pool logs the outage once (src/db/pg.ts); one line per refused request would bury it.
      req.log.debug({ code: fe.code }, 'database unavailable');
      void reply.header('Retry-After', '5');
      return send(reply, 503, 'service_unavailable', 'The database is unavailable right now; retry shortly. Nothing was written.');
    }
    req.log.error({ err: { message: fe.message, stack: fe.stack, code: fe.code } }, 'unhandled error');
    return send(reply, 500, 'internal', 'Internal error; it has been logged.');
  });
  app.setNotFoundHandler((req, reply) => send(reply, 404, 'not_found', `No route for ${req.method} ${req.url.split('?')[0]}`));
}
