import { loadConfig, type Config } from '../../src/config/env.js';
import { startService, type Service } from '../../src/service.js';
import { createOrg } from '../../src/orgs/repository.js';
import { createApiKey } from '../../src/auth/apiKeys.js';
import type { Db } from '../../src/db/types.js';
import { captureLogger } from './logCapture.js';
import { TEST_CA_PEM } from './httpsReceiver.js';
import { generateKeyBase64 } from '../../src/crypto/keyring.js';

export interface TestService {
  service: Service;
  config: Config;
  baseUrl: string;
  logs: ReturnType<typeof captureLogger>;
  /** A fresh org and API key. */
  /** An organization and an API key for it; `id` when a test needs a particular one. */
  newOrg(name?: string, id?: string): Promise<{ orgId: string; apiKey: string }>;
  /** JSON request through real HTTP; returns status, parsed body and headers. */
  request(
    method: string,
    path: string,
    opts?: { apiKey?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers; text: string }>;
  stop(): Promise<void>;
}

/**
 * Starts the real service (HTTP on an ephemeral loopback port, the real worker) on a test database,
 * trusting the test CA and allowing loopback destinations (the HTTPS receivers run on 127.0.0.1).
 */
export async function startTestService(db: Db, env: Record<string, string> = {}, role: 'all' | 'api' | 'worker' = 'all'): Promise<TestService> {
  const config = loadConfig({
    PORT: '0',
    AEGIS_ALLOW_PRIVATE_DESTINATIONS: '1',
    AEGIS_ENCRYPTION_KEY: generateKeyBase64(),
    AEGIS_WORKER_INTERVAL_MS: '1000',
    AEGIS_RETRY_DELAYS_S: '1,1,1',
    // Generous: on a loaded 2-core machine a TLS handshake to a local receiver can take seconds, and a
    // spurious timeout turns into a retry the test did not expect. Tests about timeouts set a short one.
    AEGIS_HTTP_TIMEOUT_MS: '15000',
    AEGIS_LOG_LEVEL: 'debug',
    // Suites that create many destinations in one organization are not about the per-organization
    // caps; orgLimits.test.ts sets small ones.
    AEGIS_MAX_DESTINATIONS_PER_ORG: '10000',
    AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG: '10000',
    ...env,
  });
  const logs = captureLogger('debug');
  const service = await startService(config, { role, logger: logs.logger, extraCa: TEST_CA_PEM, db });
  const baseUrl = service.address!;
  return {
    service,
    config,
    baseUrl,
    logs,
    async newOrg(name = 'Test org', id?: string) {
      const org = await createOrg(db, name, id);
      return { orgId: org.id, apiKey: await createApiKey(db, org.id) };
    },
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await fetch(baseUrl + path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed, headers: res.headers, text };
    },
    stop: () => service.stop(),
  };
}
