import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, signStandardWebhook, standardWebhookHeaders } from './standardWebhooks.js';

describe('Standard Webhooks', () => {
  it("matches the spec's own test vector", () => {
    expect(
      signStandardWebhook({
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestamp: 1614265330,
        body: '{"test": 2432232314}',
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is verified by the standardwebhooks package with a generated secret', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    const body = JSON.stringify({ event: { id: 'pflt_1' } });
    const headers = standardWebhookHeaders({ secret, id: 'pflt_1', timestamp: Math.floor(Date.now() / 1000), body });
    expect(new Webhook(secret).verify(body, headers)).toEqual({ event: { id: 'pflt_1' } });
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers)).toThrow();
  });

  it('refuses ids containing a dot', () => {
    expect(() => signStandardWebhook({ secret: generateSigningSecret(), id: 'a.b', timestamp: 1, body: '' })).toThrow();
  });
});
