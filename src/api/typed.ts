import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';

/**
 * The app as routes see it: request bodies, params, queries and replies typed from the route's own
 * TypeBox schemas, so a handler never casts what the schema already checked. (Type-only: the
 * provider's runtime validator is not used; Fastify's ajv validates, as configured in app.ts.)
 */
export type TypedApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;
