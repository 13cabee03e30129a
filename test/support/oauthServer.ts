// A real OAuth2 authorization server for tests: oidc-provider (the certified OpenID Connect library),
// in this process, over HTTPS with the test certificates, offering the client_credentials grant.
// Access tokens are JWTs (resource indicators) for one resource server, so a receiver can check them
// the way Azure Monitor does: signature against the server's published JWKS, issuer, audience, expiry.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import Provider, { type ClientMetadata } from 'oidc-provider';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWTPayload } from 'jose';
import { TEST_CA_PEM, TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM, type ReceivedRequest, type ReceiverHandler, type ReceiverResponse } from './httpsReceiver.js';

/** The resource (and token audience) of the Logs Ingestion API, as Entra ID issues it. */
export const MONITOR_RESOURCE = 'https://monitor.azure.com';
export const MONITOR_SCOPE = 'https://monitor.azure.com//.default';
/** A second scope of the same resource server, for custom webhook clients. */
export const WEBHOOK_SCOPE = 'aegis:ingest';

export interface TestClient {
  client_id: string;
  client_secret: string;
  token_endpoint_auth_method: 'client_secret_post' | 'client_secret_basic';
}

export interface OAuthServer {
  issuer: string;
  tokenUrl: string;
  /** Successful token grants per client id. */
  grants: Map<string, number>;
  /** Refused token requests (wrong secret, unknown client...). */
  refused: number;
  /** Verifies a Bearer token as a resource server would; throws when it is not valid for `audience`. */
  verify(token: string, audience?: string): Promise<JWTPayload>;
  /**
   * From now on, every token request is refused with 400 invalid_grant and this description (a
   * hostile or broken endpoint's answer, quoting whatever the test puts in it), instead of reaching the
   * provider; null: the provider answers again.
   */
  refuseWith(description: string | null): void;
  close(): Promise<void>;
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: TEST_CA_PEM }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts the server on 127.0.0.1 with these clients; `accessTokenTTL` is each token's lifetime in
 * seconds. Tokens are signed JWTs (verify) unless `opaque`: random strings, as many providers issue,
 * which share nothing with each other (two JWTs of one issuer share their header and most claims).
 */
export async function startOAuthServer(clients: TestClient[], opts: { accessTokenTTL?: number; opaque?: boolean } = {}): Promise<OAuthServer> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server: Server = createServer({ cert: TEST_SERVER_CERT_PEM, key: TEST_SERVER_KEY_PEM }, (req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `https://127.0.0.1:${port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: clients.map((c): ClientMetadata => ({ ...c, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] })),
    jwks: { keys: [jwk] },
    cookies: { keys: ['aegis-test-cookie-key'] },
    ttl: { ClientCredentials: () => opts.accessTokenTTL ?? 3600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => MONITOR_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: `${MONITOR_SCOPE} ${WEBHOOK_SCOPE}`,
          audience: MONITOR_RESOURCE,
          accessTokenTTL: opts.accessTokenTTL ?? 3600,
          accessTokenFormat: opts.opaque ? 'opaque' : 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  const grants = new Map<string, number>();
  const state: { refused: number; refusal: string | null } = { refused: 0, refusal: null };
  provider.on('grant.success', (ctx: { oidc: { client?: { clientId: string } } }) => {
    const id = ctx.oidc.client?.clientId ?? '?';
    grants.set(id, (grants.get(id) ?? 0) + 1);
  });
  provider.on('grant.error', () => {
    state.refused++;
  });
  const callback = provider.callback();
  handler = (req, res) => {
    if (state.refusal !== null && req.method === 'POST') {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant', error_description: state.refusal }));
      return;
    }
    void callback(req, res);
  };

  const discovery = (await getJson(`${issuer}/.well-known/openid-configuration`)) as { token_endpoint: string; jwks_uri: string };
  // The resource server's view of the keys: what the provider publishes, not the key we gave it.
  const jwks = createLocalJWKSet((await getJson(discovery.jwks_uri)) as { keys: [] });

  return {
    issuer,
    tokenUrl: discovery.token_endpoint,
    grants,
    get refused() {
      return state.refused;
    },
    refuseWith(description) {
      state.refusal = description;
    },
    async verify(token, audience = MONITOR_RESOURCE) {
      const { payload } = await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt' });
      return payload;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Azure Monitor's answer to a missing or invalid token. */
export const INVALID_TOKEN: ReceiverResponse = {
  status: 401,
  headers: { 'content-type': 'application/json' },
  body: '{"error":{"code":"InvalidToken","message":"The provided token is not valid"}}',
};

export interface BearerOnlyOptions {
  /** The token's audience (default: the Logs Ingestion resource). */
  audience?: string;
  /** A scope the token must carry, as a resource server checking it would. */
  scope?: string;
  /** Tokens refused whatever their signature (revoked at the resource server); read at each request. */
  revoked?: ReadonlySet<string>;
  /** Each token accepted is pushed here. */
  accepted?: string[];
  /** The refusal (default: Azure Monitor's). */
  refusal?: ReceiverResponse;
}

/** The Bearer token a request carries, or undefined. */
export function bearerOf(req: Pick<ReceivedRequest, 'headers'>): string | undefined {
  return /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
}

/**
 * A receiver handler that is a resource server of `op`: 204 for a Bearer token the server signed
 * (checked against its published keys), the refusal otherwise.
 */
export function bearerOnly(op: OAuthServer, opts: BearerOnlyOptions = {}): ReceiverHandler {
  return async (req) => {
    const token = bearerOf(req);
    const refusal = opts.refusal ?? INVALID_TOKEN;
    if (!token || opts.revoked?.has(token)) return refusal;
    try {
      const claims = await op.verify(token, opts.audience);
      if (opts.scope !== undefined && (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(opts.scope))) return refusal;
    } catch {
      return refusal;
    }
    opts.accepted?.push(token);
    return { status: 204 };
  };
}
