// Alert e-mails go from the operator's mail server and domain, to any address a tenant lists: a tenant
// could have the service mail its own text (a destination's name, its SIEM's answers) to anyone.
// AEGIS_ALERT_EMAIL_DOMAINS limits the addresses to the operator's domains (and their subdomains):
// others are refused when listed, and addresses stored before the setting are not mailed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../support/smtpReceiver.js';
import { seedEvents } from '../delivery/support.js';
import { loadConfig } from '../../../src/config/env.js';
import { generateKeyBase64 } from '../../../src/crypto/keyring.js';

describe.each(DB_KINDS)('alert e-mail domains (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let smtp: SmtpReceiver;
  let siem: Receiver;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    smtp = await startSmtpReceiver('u', 'p');
    siem = await startReceiver(() => ({ status: 401, body: 'no' }));
    svc = await startTestService(tdb.db, {
      AEGIS_SMTP_URL: `smtp://u:p@127.0.0.1:${smtp.port}`,
      AEGIS_ALERT_DIGEST_S: '0',
      AEGIS_RETRY_DELAYS_S: '0.2,0.2',
      AEGIS_ALERT_EMAIL_DOMAINS: 'Example.com, ops.example.org',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await siem?.close();
    await smtp?.close();
    await tdb?.close();
  });

  /** A destination whose SIEM refuses every request, with events queued: the organization's alerts follow. */
  async function failingDestination(org: { orgId: string; apiKey: string }) {
    const dest = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { siem: 'custom', url: `${siem.url}/in`, auth_header_name: 'Authorization', auth_header_value: 'Bearer t-0123456789', enabled: true },
    });
    expect(dest.status, dest.text).toBe(201);
    await seedEvents(tdb.db, org.orgId, 3);
  }

  it('the start does not warn of mail to any address: the domains are set', () => {
    expect(svc.logs.text()).not.toContain('AEGIS_ALERT_EMAIL_DOMAINS is not');
  });

  it('refuses an address outside the domains, without naming the allowed ones (other customers, on a shared service)', async () => {
    const org = await svc.newOrg();
    const path = `/api/orgs/${org.orgId}/notification-settings`;
    const refused = await svc.request('PUT', path, { apiKey: org.apiKey, body: { emails: ['oncall@example.com', 'victim@bank.example'], webhook_url: null } });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('/emails/1');
    expect(refused.text).toContain('is not at a domain this service sends alert e-mails to');
    expect(refused.text).not.toContain('ops.example.org');
    // Look-alikes are other domains.
    for (const e of ['a@notexample.com', 'a@example.com.evil.example', 'a@example.org']) {
      const r = await svc.request('PUT', path, { apiKey: org.apiKey, body: { emails: [e], webhook_url: null } });
      expect(r.status, e).toBe(400);
    }
    const ok = await svc.request('PUT', path, {
      apiKey: org.apiKey,
      body: { emails: ['oncall@example.com', 'team@eu.EXAMPLE.com', 'x@ops.example.org'], webhook_url: null },
    });
    expect(ok.status, ok.text).toBe(200);
  });

  it('does not mail an address stored before the domains were set', async () => {
    const org = await svc.newOrg();
    const put = await svc.request('PUT', `/api/orgs/${org.orgId}/notification-settings`, {
      apiKey: org.apiKey,
      body: { emails: ['oncall@example.com'], webhook_url: null },
    });
    expect(put.status, put.text).toBe(200);
    await tdb.db.query(`UPDATE notification_settings SET emails = array_append(emails, 'old@elsewhere.example') WHERE org_id = $1`, [org.orgId]);
    await failingDestination(org);
    await expect.poll(() => smtp.mails.filter((m) => m.to.includes('oncall@example.com')).length, { timeout: 120_000 }).toBeGreaterThan(0);
    expect(smtp.mails.some((m) => m.to.includes('old@elsewhere.example'))).toBe(false);
  });

  it('says so when none of the addresses stored before is at the domains', async () => {
    const org = await svc.newOrg();
    await tdb.db.query(`INSERT INTO notification_settings (org_id, emails) VALUES ($1, ARRAY['old@elsewhere.example'])`, [org.orgId]);
    await failingDestination(org);
    await expect
      .poll(() => svc.logs.lines.some((l) => l.includes('AEGIS_ALERT_EMAIL_DOMAINS; e-mail alerts are dropped') && l.includes(org.orgId)), { timeout: 120_000 })
      .toBe(true);
    expect(smtp.mails.some((m) => m.to.includes('old@elsewhere.example'))).toBe(false);
  });

  it('refuses a setting that is not a list of domains', () => {
    for (const bad of ['example.com, ', 'https://example.com', '*.example.com', 'a@example.com', 'exa mple.com']) {
      expect(() => loadConfig({ AEGIS_ALERT_EMAIL_DOMAINS: bad, AEGIS_ENCRYPTION_KEY: generateKeyBase64() }), bad).toThrow(/AEGIS_ALERT_EMAIL_DOMAINS/);
    }
  });
});
