import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resetConnection, respondWith, startReceiver, TEST_CA_PEM, unaskedContinue } from '../../test/support/httpsReceiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../test/support/smtpReceiver.js';
import { createOutboundClient } from '../delivery/outbound/client.js';
import { networkInterfaces } from 'node:os';
import { createMailChannel, requiresStartTls, sendWebhook } from './channels.js';

const receivers: SmtpReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

describe('mail channel errors', () => {
  it('a server quoting the password back: the error is scrubbed whole before it is shortened, so no start of it survives', async () => {
    const password = 'Qm7-vX2.pL9_rT4~kW8';
    // The refusal quotes the password again and again, so the 300-character cut falls inside one.
    const smtp = await startSmtpReceiver('alerts', 'the-right-one', {
      authError: (tried) => Array.from({ length: 20 }, (_, i) => `${'.'.repeat(i % 7)}${tried}`).join(' '),
    });
    receivers.push(smtp);
    const channel = createMailChannel(`smtp://alerts:${encodeURIComponent(password)}@127.0.0.1:${smtp.port}`, 'aegis@example.com');
    try {
      const { error } = await channel.send(['ops@example.com'], 'test', 'hello');
      expect(smtp.authFailures).toBe(1);
      expect(error).toContain('[redacted]');
      expect(error!.length).toBeLessThanOrEqual(300);
      // Every four characters of the password, anywhere: none is left.
      for (let i = 0; i + 4 <= password.length; i++) expect(error, password.slice(i, i + 4)).not.toContain(password.slice(i, i + 4));
    } finally {
      channel.close();
    }
  });
});

describe('mail channel errors, a refused recipient', () => {
  it("never quotes the tenant's addresses the server names (the text goes to the operator's log)", async () => {
    const smtp = await startSmtpReceiver('alerts', 'pw', {
      rcptError: (address) => (/^(cfo|mary)/i.test(address) ? `5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table` : null),
    });
    receivers.push(smtp);
    const channel = createMailChannel(`smtp://alerts:pw@127.0.0.1:${smtp.port}`, 'aegis@example.com');
    try {
      const { error } = await channel.send(
        ['cfo.private@customer-a.example', 'CFO+alerts@Customer-A.example', "mary.o'neil@customer-a.example"],
        'test',
        'hello',
      );
      expect(error).toMatch(/550/);
      expect(error).toContain('[address]');
      expect(error).not.toMatch(/cfo|customer-a|mary|neil/i);
      expect(smtp.mails).toEqual([]);
    } finally {
      channel.close();
    }
  });

  it("keeps the operator's own sender address a relay refuses: it says what to fix in AEGIS_ALERT_FROM", async () => {
    const smtp = await startSmtpReceiver('alerts', 'pw', {
      mailFromError: (address) => `5.7.1 <${address}>: Sender address rejected: not owned by user alerts`,
    });
    receivers.push(smtp);
    const channel = createMailChannel(`smtp://alerts:pw@127.0.0.1:${smtp.port}`, 'aegis@example.com');
    try {
      const { error } = await channel.send(['ops@customer-a.example'], 'test', 'hello');
      expect(error).toMatch(/553.*<aegis@example\.com>: Sender address rejected/);
    } finally {
      channel.close();
    }
  });

  // An alerts review: with AEGIS_ALERT_FROM "Aegis <alerts@example.com>", the sender's own address
  // was compared with the whole value and masked, losing what to fix.
  it('keeps the sender address when AEGIS_ALERT_FROM has a display name', async () => {
    const smtp = await startSmtpReceiver('alerts', 'pw', {
      mailFromError: (address) => `5.7.1 <${address}>: Sender address rejected: not owned by user alerts`,
    });
    receivers.push(smtp);
    const channel = createMailChannel(`smtp://alerts:pw@127.0.0.1:${smtp.port}`, 'Aegis Alerts <aegis@example.com>');
    try {
      const { error } = await channel.send(['ops@customer-a.example'], 'test', 'hello');
      expect(error).toMatch(/553.*<aegis@example\.com>: Sender address rejected/);
    } finally {
      channel.close();
    }
  });

  // An alerts review: the server took the message for one recipient and refused another; the send
  // counted as reaching everyone, and the refused address was never told of.
  it('a message taken for some recipients and refused for others: sent, with the refusals counted by code, no address', async () => {
    const smtp = await startSmtpReceiver('alerts', 'pw', {
      rcptError: (address) => (address.startsWith('full') ? '5.2.2 <full@customer-a.example>: mailbox full' : null),
    });
    receivers.push(smtp);
    const channel = createMailChannel(`smtp://alerts:pw@127.0.0.1:${smtp.port}`, 'aegis@example.com');
    try {
      const result = await channel.send(['oncall@customer-a.example', 'full@customer-a.example'], 'test', 'hello');
      expect(result).toEqual({ error: null, refused: { count: 1, codes: ['550'] } });
      expect(smtp.mails.map((m) => m.to)).toEqual([['oncall@customer-a.example']]);
    } finally {
      channel.close();
    }
  });

  it('reads a bounded start of a huge refusal: a megabyte without an @ costs the loop no more than a short one', async () => {
    const smtp = await startSmtpReceiver('alerts', 'pw', { rcptError: () => `5.1.1 ${'x'.repeat(900_000)}` });
    receivers.push(smtp);
    const channel = createMailChannel(`smtp://alerts:pw@127.0.0.1:${smtp.port}`, 'aegis@example.com');
    try {
      const { error } = await channel.send(['ops@customer-a.example'], 'test', 'hello');
      expect(error).toMatch(/^EENVELOPE 550: /);
      expect(error!.length).toBeLessThanOrEqual(300);
    } finally {
      channel.close();
    }
  });
});

describe('mail channel errors, a password that is no valid percent-encoding', () => {
  it('a server quoting back a password with a stray % (p%zz...): the password alone is scrubbed, not only the whole URL', async () => {
    // As typed into AEGIS_ALERT_SMTP_URL: `%zz` decodes to nothing, so the URL's password is kept raw.
    const password = 'p%zzSecretQm7vX2pL9';
    const smtp = await startSmtpReceiver('alerts', 'the-right-one', { authError: (tried) => `535 login refused for password ${tried}` });
    receivers.push(smtp);
    const channel = createMailChannel(`smtp://alerts:${password}@127.0.0.1:${smtp.port}`, 'aegis@example.com');
    try {
      const { error } = await channel.send(['ops@example.com'], 'test', 'hello');
      expect(smtp.authFailures).toBe(1);
      expect(error).toContain('[redacted]');
      expect(error).not.toContain('SecretQm7');
    } finally {
      channel.close();
    }
  });
});

describe('webhook channel errors', () => {
  it('a webhook quoting its signing secret back: scrubbed before the error clips the answer', async () => {
    const secret = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci1hbGVydHM=';
    // The error quotes 120 characters of a 400's body, which ends inside the secret.
    const hook = await startReceiver(respondWith(400, `${'x'.repeat(100)} ${secret} is wrong`));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const error = await sendWebhook(client, `${hook.url}/alerts`, secret, 'msg_1', '{"alerts":[]}');
      expect(error).toContain('[redacted]');
      expect(error).not.toContain(secret.slice(6, 14));
    } finally {
      await client.close();
      await hook.close();
    }
  });

  it('a webhook behind a proxy that answers an unasked 100 Continue: said of the webhook, not of a SIEM, and no retry promised', async () => {
    const hook = await startReceiver(unaskedContinue());
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const error = await sendWebhook(client, `${hook.url}/alerts`, 'whsec_c2VjcmV0LXNpZ25pbmc=', 'msg_3', '{"alerts":[]}');
      expect(error).toMatch(/not a valid HTTP response/);
      expect(error).not.toMatch(/SIEM/);
      expect(error).not.toMatch(/retry/i);
    } finally {
      await client.close();
      await hook.close();
    }
  });

  // The sentences were written for SIEMs: a webhook's 400 told the operator to "check the SIEM preset
  // and the ingest path", its 404 pointed at Splunk HEC's path. Each must speak of the webhook.
  it.each([
    [400, /^HTTP 400: The alert webhook refused the request \(it said: no\)/],
    [404, /^HTTP 404: Not found — check the alert webhook URL's path/],
    [413, /^HTTP 413: Payload too large — the alert webhook refused the request size/],
    [429, /^HTTP 429: Rate limited by the alert webhook; Aegis will retry\.$/],
    [503, /^HTTP 503: The alert webhook had a server error; Aegis will retry/],
  ])('a webhook answering %i: the sentence names the alert webhook, never a SIEM, a preset or an ingest path', async (status, expected) => {
    const hook = await startReceiver(respondWith(status, 'no'));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const error = await sendWebhook(client, `${hook.url}/alerts`, 'whsec_c2VjcmV0LXNpZ25pbmc=', 'msg_4', '{"alerts":[]}');
      expect(error).toMatch(expected);
      expect(error).not.toMatch(/SIEM|preset|ingest|Splunk|Retry-After/);
    } finally {
      await client.close();
      await hook.close();
    }
  });

  it('a webhook that resets the connection: said of the alert webhook, not of a SIEM', async () => {
    const hook = await startReceiver(resetConnection());
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const error = await sendWebhook(client, `${hook.url}/alerts`, 'whsec_c2VjcmV0LXNpZ25pbmc=', 'msg_5', '{"alerts":[]}');
      expect(error).toMatch(/^Connection reset: the alert webhook or a proxy closed the connection/);
      expect(error).not.toMatch(/SIEM/);
    } finally {
      await client.close();
      await hook.close();
    }
  });

  it("a webhook quoting its own URL's token back: the token in the URL is scrubbed as the secret is", async () => {
    const token = 'opsTok-7Hq2LmX9vR4kP8sW';
    const hook = await startReceiver((req) => ({ status: 400, body: `bad request to ${req.path}` }));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const error = await sendWebhook(client, `${hook.url}/alerts?token=${token}`, 'whsec_c2VjcmV0LXNpZ25pbmc=', 'msg_2', '{"alerts":[]}');
      expect(error).toContain('?token=[redacted]');
      expect(error).not.toContain(token.slice(0, 12));
    } finally {
      await client.close();
      await hook.close();
    }
  });
});

describe('mail channel: a mail server slow at every step', () => {
  it('ends the conversation at its deadline, though each answer comes within the idle timeout', async () => {
    // Each reply a second after its command: no phase is ever idle for 15 s, so without a deadline of
    // its own a conversation of a few recipients ran past the send lease (two workers: a duplicate).
    let open = 0;
    const server = net.createServer((socket) => {
      open++;
      socket.on('close', () => open--);
      const later = (line: string) => setTimeout(() => socket.writable && socket.write(`${line}\r\n`), 1_000);
      later('220 slow.example ESMTP');
      let data = false;
      socket.on('data', (chunk) => {
        for (const line of chunk.toString().split('\r\n').filter(Boolean)) {
          if (data) {
            if (line === '.') {
              data = false;
              // "Still queueing", a line a second and never the last one: no idle timeout ever fires.
              const drip = setInterval(() => (socket.writable ? socket.write('250-still queueing\r\n') : clearInterval(drip)), 1_000);
              socket.on('close', () => clearInterval(drip));
            }
          } else if (/^(EHLO|HELO)/i.test(line)) later('250 slow.example');
          else if (/^DATA/i.test(line)) {
            data = true;
            later('354 go on');
          } else if (/^QUIT/i.test(line)) later('221 bye');
          else later('250 ok');
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const channel = createMailChannel(`smtp://127.0.0.1:${port}`, 'aegis@example.com', { deadlineMs: 8_000 });
    try {
      const { error } = await channel.send(['a@example.com', 'b@example.com', 'c@example.com'], 'test', 'hello');
      expect(error).toMatch(/did not finish .* within 8 s/);
      // And the conversation is ended, not left to the server (an alerts review: one stayed open per
      // try, every retry opening another, for as long as the server kept answering).
      await expect.poll(() => open, { timeout: 60_000 }).toBe(0);
    } finally {
      channel.close();
      server.close();
    }
  });
});

// An alerts review: "STARTTLS when offered" let anyone on the path strike STARTTLS from the server's
// answer and read the password, sent in clear.
describe('mail channel: credentials travel over TLS', () => {
  it('requires STARTTLS for smtp:// with credentials to another host; a local relay, smtps:// and no credentials do not', () => {
    expect(requiresStartTls('smtp://alerts:pw@mail.example.com:587')).toBe(true);
    expect(requiresStartTls('smtp://alerts@mail.example.com:587')).toBe(true);
    expect(requiresStartTls('smtp://alerts:pw@192.0.2.10:25')).toBe(true);
    expect(requiresStartTls('smtp://alerts:pw@127.0.0.1:25')).toBe(false);
    expect(requiresStartTls('smtp://alerts:pw@localhost:25')).toBe(false);
    expect(requiresStartTls('smtp://alerts:pw@[::1]:25')).toBe(false);
    expect(requiresStartTls('smtps://alerts:pw@mail.example.com:465')).toBe(false);
    expect(requiresStartTls('smtp://mail.example.com:25')).toBe(false);
    // The machine itself in other spellings.
    for (const host of ['127.1', 'localhost.', '127.0.0.53', '[::ffff:127.0.0.1]']) expect(requiresStartTls(`smtp://alerts:pw@${host}:25`), host).toBe(false);
    // The URL's own TLS choice stands (nodemailer reads it over ours): an explicit ignoreTLS is kept.
    expect(requiresStartTls('smtp://alerts:pw@mail.example.com:25?ignoreTLS=true')).toBe(false);
    expect(requiresStartTls('smtp://alerts:pw@mail.example.com:25?requireTLS=false')).toBe(false);
  });

  it('a server on another address that does not offer STARTTLS never gets the password', async () => {
    // A non-loopback address of this machine: the server sits "elsewhere" as far as the URL says.
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    expect(address, 'this test needs a non-loopback IPv4 address').toBeDefined();
    const smtp = await startSmtpReceiver('alerts', 'pw', { host: address! });
    receivers.push(smtp);
    const channel = createMailChannel(`smtp://alerts:pw@${address!}:${smtp.port}`, 'aegis@example.com');
    try {
      const { error } = await channel.send(['ops@example.com'], 'test', 'hello');
      expect(error).toMatch(/STARTTLS/i);
      expect(smtp.logins).toBe(0);
      expect(smtp.mails).toEqual([]);
    } finally {
      channel.close();
    }
    // The operator's opt-out, in the URL, for a relay on a network they trust.
    const optedOut = createMailChannel(`smtp://alerts:pw@${address!}:${smtp.port}?requireTLS=false`, 'aegis@example.com');
    try {
      expect(await optedOut.send(['ops@example.com'], 'test', 'hello')).toEqual({ error: null, refused: null });
      expect(smtp.logins).toBe(1);
    } finally {
      optedOut.close();
    }
  });
});
