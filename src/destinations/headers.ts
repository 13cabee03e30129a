import { invalid } from '../errors.js';
import { headerNameProblem } from './headerRules.js';
import { isSendableHeaderValue } from '../siem/types.js';

/** The API's check of a configured header name; the rule itself lives in headerRules.ts. */
export function checkHeaderName(name: string, field = 'auth_header_name'): string {
  const problem = headerNameProblem(name);
  if (problem !== null) throw invalid(field, problem);
  return name;
}

/** Never echoes the value in the message: it is a credential. */
export function checkHeaderValue(value: string, field = 'auth_header_value'): string {
  if (value.length > 8192) throw invalid(field, 'must be at most 8192 characters');
  if (!isSendableHeaderValue(value)) throw invalid(field, 'contains a line break, control or non-ASCII character, which HTTP header values cannot carry');
  if (value !== value.trim()) throw invalid(field, 'must not start or end with whitespace');
  return value;
}
