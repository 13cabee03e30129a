/**
 * How every ajv that checks a request is set up: Fastify's own (app.ts), the producer routes' (see
 * producerValidation.ts) and the all-errors rerun of a refusal (requestViolations.ts). One place, so
 * a route never accepts what another check of the same schema would refuse.
 */
export const REQUEST_AJV_OPTIONS = {
  // Refuse, never silently drop or coerce: unknown fields and wrong types are client errors.
  removeAdditional: false,
  coerceTypes: false,
  useDefaults: false,
  allErrors: false,
} as const;
