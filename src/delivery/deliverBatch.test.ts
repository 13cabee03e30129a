import { describe, expect, it } from 'vitest';
import { sampleEvent } from '../siem/testEvents.js';
import { sendRequest, type DeliveryTarget, type SendDeps } from './deliverBatch.js';
import type { OutboundClient } from './outbound/client.js';

const TOKEN = 'Kq7mZ2xP9vL4tR8wN3sJ';

const target: DeliveryTarget = {
  orgId: 'org_deliver',
  id: 'dst_deliver_stack',
  siem: 'custom',
  url: `https://hooks.example.com/in?token=${TOKEN}`,
  authHeaderName: null,
  authHeaderValue: null,
  signingSecret: null,
  previousSigningSecret: null,
  oauth: null,
  options: {},
  format: 'ecs',
};

describe('sendRequest: an internal error quoting a credential', () => {
  it("is rethrown scrubbed in its message and in its stack's first line (the API's error handler logs the stack)", async () => {
    // An internal failure whose message quotes the request (as a library's error may quote its URL),
    // its stack already read (V8 writes the stack's first line, the message as it is, on first read:
    // a library that logged or wrapped the error has fixed it before the message is scrubbed).
    const failing = (url: string) => {
      const err = new TypeError(`cannot send to ${url}`);
      void err.stack;
      return err;
    };
    const client: OutboundClient = {
      send: (req) => Promise.reject(failing(req.url)),
      poolCount: () => 0,
      close: () => Promise.resolve(),
    };
    const deps: SendDeps = { client, hostname: 'aegis-test', userAgent: 'aegis-test/1' };
    const thrown = await sendRequest(deps, target, [sampleEvent(1)]).then(
      () => null,
      (err: unknown) => err,
    );
    expect(thrown).toBeInstanceOf(TypeError);
    const err = thrown as Error;
    expect(err.message).toBe('cannot send to https://hooks.example.com/in?token=[redacted]');
    expect(err.stack?.split('\n')[0]).toBe('TypeError: cannot send to https://hooks.example.com/in?token=[redacted]');
    expect(err.stack).not.toContain(TOKEN);
    // The frames stay: where it failed is what the log line is for.
    expect(err.stack).toMatch(/\n\s+at /);
  });
});
