/**
 * The published JSON Schemas (schemas/*.schema.json) as route schemas: the producer routes validate
 * and document exactly what agents are told to send and expect, from one definition. Route schemas
 * go to Fastify's validator and to /openapi.json, which both want one self-contained schema per body,
 * so each definition is inlined here (its $refs into the three files replaced by their targets).
 * The TypeScript types are the producer's own (events/record.ts, events/contract.ts); the events
 * tests hold those to the same files.
 */
import { Type, type TUnsafe } from 'typebox';
import { apiBodiesSchema, auditEventSchema, configChangeEventSchema } from '../../events/validate.js';
import type { PreflightRequest } from '../../events/record.js';

type Json = Record<string, unknown>;

const FILES: Record<string, Json> = {
  'api-bodies.schema.json': apiBodiesSchema,
  'audit-event.schema.json': auditEventSchema,
  'config-change-event.schema.json': configChangeEventSchema,
};

/** The node a JSON pointer ("/$defs/Name") names in a document. */
function at(doc: Json, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, seg) => (node as Json)[seg.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

/** A copy of `node` (found in `file`) with every $ref replaced by its target, and no $schema/$id/$defs. */
function inline(node: unknown, file: string): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(n, file));
  if (typeof node !== 'object' || node === null) return node;
  const { $ref, $schema: _s, $id: _i, $defs: _d, ...rest } = node as Json;
  const own = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, inline(v, file)]));
  if (typeof $ref !== 'string') return own;
  const [target = '', pointer = ''] = $ref.split('#');
  const targetFile = target === '' ? file : target;
  const doc = FILES[targetFile];
  if (!doc) throw new Error(`published schema: unknown $ref ${$ref}`);
  // Siblings of $ref (a description) refine the target, as in draft 2020-12.
  return { ...(inline(pointer ? at(doc, pointer) : doc, targetFile) as Json), ...own };
}

function def<T>(name: string): TUnsafe<T> {
  return Type.Unsafe<T>(inline(at(apiBodiesSchema, `/$defs/${name}`), 'api-bodies.schema.json') as Json);
}

export interface PreflightResponse {
  preflight_id: string;
  decision: string;
  masked_input: string;
  summary: string;
  finding_counts_by_type: Record<string, number>;
  policy_id: string;
  policy_version: string;
}

export const PreflightRequestSchema = def<PreflightRequest>('PreflightRequest');
export const PreflightResponseSchema = def<PreflightResponse>('PreflightResponse');
/** Records are unknown to the route: the producer checks each against the same schema and the privacy guard. */
export const AuditEventsRequestSchema = def<{ events: unknown[] }>('AuditEventsRequest');
export const AuditEventsResponseSchema = def<{ accepted: number; preflight_ids: string[]; already_recorded?: number }>('AuditEventsResponse');
export const AuditEventsPageSchema = def<{ events: unknown[]; next_cursor: string; has_more: boolean }>('AuditEventsPage');
/** Every 4xx and 5xx answer, from the one published definition. */
export const ErrorResponseSchema = def<{ error: { code: string; message: string; details?: { path: string; message: string }[] } }>('ErrorResponse');
