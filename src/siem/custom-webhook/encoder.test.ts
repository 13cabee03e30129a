import { describe, expect, it } from 'vitest';
import { customEncoder } from './encoder.js';
import type { EncodeContext } from '../types.js';
import { sampleEvent } from '../testEvents.js';
import { Webhook } from 'standardwebhooks';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

describe('custom webhook', () => {
  it('posts one plain object with Idempotency-Key', () => {
    const e = sampleEvent(5);
    const req = customEncoder.encode([e], ctx);
    expect(JSON.parse(req.body)).toEqual(e);
    expect(req.headers).toEqual({ 'Idempotency-Key': 'pflt_000005' });
    expect(req.contentType).toBe('application/json');
    expect(customEncoder.maxBatchEvents).toBe(1);
    expect(() => customEncoder.encode([e, e], ctx)).toThrow();
  });

  it('signs with Standard Webhooks when a signing secret is configured, verifiable by the standardwebhooks package', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const now = Date.now();
    const e = sampleEvent(5);
    const req = customEncoder.encode([e], { ...ctx, options: { signingSecret: secret }, now: () => now });
    expect(req.headers['webhook-id']).toBe('pflt_000005');
    expect(req.headers['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(new Webhook(secret).verify(req.body, req.headers)).toEqual(e);
  });
});
