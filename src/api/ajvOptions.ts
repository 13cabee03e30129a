import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';

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

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

/** An ajv with the request options and formats, as Fastify builds its own; `extra` for what differs. */
export function requestAjv(extra: Options = {}): Ajv {
  const ajv = new Ajv({ ...REQUEST_AJV_OPTIONS, ...extra });
  addFormats(ajv);
  return ajv;
}
