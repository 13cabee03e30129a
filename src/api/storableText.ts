// Every string of a JSON request body must be storable text: PostgreSQL refuses NUL (U+0000) in text
// and json values, and an unpaired UTF-16 surrogate is not Unicode at all (it would be refused, or
// silently turned into U+FFFD, depending on the column and the driver). Checked once for every JSON
// body, before schema validation, so no field needs its own check and none can be forgotten.
import type { FastifyInstance } from 'fastify';
import { invalid } from '../errors.js';
import { isStorableText, storableText } from '../db/storable.js';

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/** The path (`options.index`, `events[2].summary`) of the first unstorable string or key, or null. */
export function findUnstorableText(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path || 'body';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${path || 'body'}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      // The key itself is named with its bad characters shown as U+FFFD (an error message is text too).
      if (!isStorableText(key)) return join(path, storableText(key, '\uFFFD'));
      const found = findUnstorableText(child, join(path, key));
      if (found !== null) return found;
    }
  }
  return null;
}

export function refuseUnstorableText(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    const field = findUnstorableText(req.body);
    if (field !== null) throw invalid(field, 'contains a NUL character (\\u0000) or an unpaired surrogate, which cannot be stored as text');
  });
}
