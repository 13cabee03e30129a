import { Type } from 'typebox';
import { DESTINATION_ID_PATTERN, ORG_ID_PATTERN } from '../../ids.js';
import { MAX_REPORTED_VIOLATIONS } from '../../events/violation.js';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. validation_failed, not_found, rate_limited.' }),
      message: Type.String({ description: 'What is wrong, naming the field where there is one.' }),
      details: Type.Optional(
        Type.Array(
          Type.Object({
            path: Type.String({ description: 'JSON pointer into the request, e.g. /events/3/summary ("" = the whole body).' }),
            message: Type.String({ description: 'What is wrong there; never echoes a submitted value.' }),
          }),
          {
            maxItems: MAX_REPORTED_VIOLATIONS,
            description: `On validation_failed: every problem found (at most ${MAX_REPORTED_VIOLATIONS}), each with its path. The message names the first.`,
          },
        ),
      ),
    }),
  },
  { $id: 'ErrorBody', description: 'Every 4xx and 5xx answer has this shape.' },
);

export const OrgParams = Type.Object({ org_id: Type.String({ pattern: ORG_ID_PATTERN, maxLength: 64 }) }, { additionalProperties: false });
export const DestinationParams = Type.Object(
  {
    org_id: Type.String({ pattern: ORG_ID_PATTERN, maxLength: 64 }),
    destination_id: Type.String({ pattern: DESTINATION_ID_PATTERN, maxLength: 64 }),
  },
  { additionalProperties: false },
);

export const errorResponses = {
  400: Type.Ref('ErrorBody'),
  401: Type.Ref('ErrorBody'),
  404: Type.Ref('ErrorBody'),
} as const;
