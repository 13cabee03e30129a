import { Type } from 'typebox';
import { DESTINATION_ID_PATTERN, ORG_ID_PATTERN } from '../../ids.js';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. validation_failed, not_found, rate_limited.' }),
      message: Type.String({ description: 'What is wrong, naming the field where there is one.' }),
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
