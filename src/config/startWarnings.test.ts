import { describe, expect, it } from 'vitest';
import { loadConfig } from './env.js';
import { startWarnings } from './startWarnings.js';
import { generateKeyBase64 } from '../crypto/keyring.js';

const config = (env: Record<string, string>) => loadConfig({ AEGIS_ENCRYPTION_KEY: generateKeyBase64(), ...env });
const messages = (env: Record<string, string>, role: 'all' | 'api' | 'worker' = 'all', embedded = false) =>
  startWarnings(config(env), role, embedded).map((w) => w.message);

describe('startWarnings', () => {
  it('says nothing of a plain start', () => {
    expect(messages({})).toEqual([]);
    expect(messages({}, 'all', true)).toEqual([]);
    expect(messages({ AEGIS_SMTP_URL: 'smtp://u:p@mail.example.com:587', AEGIS_ALERT_EMAIL_DOMAINS: 'example.com' })).toEqual([]);
  });

  it('warns that alert mail may go to any address when SMTP is set without the domains, and never names the URL', () => {
    const found = messages({ AEGIS_SMTP_URL: 'smtp://relay-user:s3cret-Pw@mail.example.com:587' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^AEGIS_SMTP_URL is set and AEGIS_ALERT_EMAIL_DOMAINS is not: .*set AEGIS_ALERT_EMAIL_DOMAINS/);
    expect(found[0]).not.toMatch(/relay-user|s3cret|mail\.example\.com/);
  });

  it('names an AEGIS_ variable that is no setting, and the setting it is nearest to', () => {
    const warned = startWarnings(config({}), 'all', false, {
      AEGIS_RETENTION_DAY: '3',
      AEGIS_SMTP_ULR: 'x',
      AEGIS_SOMETHING_ELSE: '1',
      AEGIS_RETENTION_DAYS: '7',
      HOME: '/root',
    }).map((w) => w.message);
    expect(warned).toEqual([
      'AEGIS_RETENTION_DAY is not a setting of this service and is ignored: did you mean AEGIS_RETENTION_DAYS? (aegis-stream start --help lists them)',
      'AEGIS_SMTP_ULR is not a setting of this service and is ignored: did you mean AEGIS_SMTP_URL? (aegis-stream start --help lists them)',
      'AEGIS_SOMETHING_ELSE is not a setting of this service and is ignored (aegis-stream start --help lists them)',
    ]);
    // Not settings, not misspellings: the examples' API key variable, Kubernetes' service links.
    const quiet = {
      AEGIS_API_KEY: 'aeg_x',
      AEGIS_PORT: 'tcp://10.0.0.1:8080',
      AEGIS_SERVICE_HOST: '10.0.0.1',
      AEGIS_SERVICE_PORT: '8080',
      AEGIS_SERVICE_PORT_HTTP: '8080',
      AEGIS_PORT_8080_TCP: 'tcp://10.0.0.1:8080',
      AEGIS_PORT_8080_TCP_PROTO: 'tcp',
      AEGIS_PORT_8080_TCP_PORT: '8080',
      AEGIS_PORT_8080_TCP_ADDR: '10.0.0.1',
      AEGIS_STREAM_SERVICE_HOST: '10.0.0.1',
      AEGIS_STREAM_PORT_8080_TCP_ADDR: '10.0.0.1',
    };
    expect(startWarnings(config({}), 'all', false, quiet)).toEqual([]);
    // ...but a port number in AEGIS_PORT is an operator who meant PORT, not Kubernetes' link (the
    // service listened on its default without a word); other unprefixed settings likewise.
    expect(
      startWarnings(config({}), 'all', false, { AEGIS_PORT: '4000', AEGIS_STREAM_PORT: ' 9000', AEGIS_HOST: '0.0.0.0', AEGIS_DATABASE_URL: 'x' }).map(
        (w) => w.message,
      ),
    ).toEqual([
      'AEGIS_DATABASE_URL is not a setting of this service and is ignored: did you mean DATABASE_URL? (aegis-stream start --help lists them)',
      'AEGIS_HOST is not a setting of this service and is ignored: did you mean HOST? (aegis-stream start --help lists them)',
      'AEGIS_PORT is not a setting of this service and is ignored: did you mean PORT? (aegis-stream start --help lists them)',
      'AEGIS_STREAM_PORT is not a setting of this service and is ignored: did you mean PORT? (aegis-stream start --help lists them)',
    ]);
    expect(startWarnings(config({}), 'all', false, { AEGIS_PORT: 'TCP://10.0.0.1:8080', AEGIS_STREAM_PORT: 'udp://10.0.0.2:53' })).toEqual([]);
    // The values are never part of the line (a misspelt AEGIS_SMTP_URL holds a password).
    expect(startWarnings(config({}), 'all', false, { AEGIS_SMTP_ULR: 'smtp://u:s3cret@mail.example.com' })[0]!.message).not.toContain('s3cret');
  });

  it('warns of a single role on the embedded database, and of private destinations', () => {
    const [role] = startWarnings(config({}), 'worker', true);
    expect(role).toEqual({ fields: { role: 'worker' }, message: expect.stringMatching(/^--role worker without DATABASE_URL: .*Set DATABASE_URL/) });
    expect(messages({}, 'api', false)).toEqual([]);
    expect(messages({ AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1' })).toEqual([expect.stringMatching(/^AEGIS_ALLOW_PRIVATE_DESTINATIONS=1: /)]);
  });
});
