import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import { refuseUnstorableText } from './storableText.js';
import swaggerUi from '@fastify/swagger-ui';
import { openapiAnswer } from './openapiAnswer.js';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { AppContext } from './context.js';
import { installErrorHandler, requestLogIds, safePath } from './errorHandler.js';
import { REQUEST_AJV_OPTIONS } from './ajvOptions.js';
import { CSRF_HEADER, requireOrg, sessionCookie } from './auth.js';
import { ErrorBody, OPTIONAL_BODY, SECURITY } from './schemas/common.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { healthRoutes } from './routes/health.js';
import { destinationRoutes } from './routes/destinations.js';
import { replayRoutes } from './routes/replays.js';
import { ReplayView } from './schemas/replays.js';
import { DestinationView } from './schemas/destinations.js';
import { notificationRoutes } from './routes/notifications.js';
import { activityRoutes } from './routes/activity.js';
import { loginLinkRoutes } from './routes/loginLinks.js';
import { eventRoutes } from './routes/events.js';
import { sessionRoutes } from './routes/session.js';
import { VERSION } from '../version.js';
import { strictJsonBodies } from './jsonBody.js';
import { limitPipelining } from './pipelining.js';
import { admissionLimits, admitPerOrg, OrgAdmission } from './orgAdmission.js';
import { LineThrottle } from '../lineThrottle.js';
import { checkLimits, CredentialChecks } from './credentialChecks.js';
import { keepSeenCredentials } from './seenCredentials.js';
import { findingTypesInIdentifier } from '../events/privacyGuard.js';
import { answerClientError } from './clientError.js';

/**
 * Errors the router raises before any route runs (a malformed percent-encoding, a path parameter
 * longer than the router allows) get the same {"error": {...}} shape as everything else.
 */
function routerError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  req.log.info({ code: err.code }, 'refused a malformed URL');
  void reply
    .status(tooLong ? 404 : 400)
    .type('application/json')
    .send({
      error: tooLong
        ? { code: 'not_found', message: 'No such resource: an id in the path is too long.' }
        : { code: 'bad_request', message: 'The URL path is not valid (bad percent-encoding).' },
    });
}

/**
 * @fastify/swagger states every request body as required. A route whose body may be left out says
 * so in its schema (`'x-body-optional': true`, see OPTIONAL_BODY) and the document says it too.
 */
function markOptionalBodies<T extends { paths?: unknown }>(doc: T): T {
  const objects = (x: unknown): Record<string, unknown>[] =>
    typeof x === 'object' && x !== null ? Object.values(x).filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
  for (const item of objects(doc.paths)) {
    for (const op of objects(item)) {
      if (!(OPTIONAL_BODY in op)) continue;
      delete op[OPTIONAL_BODY];
      if (typeof op.requestBody === 'object' && op.requestBody !== null) op.requestBody = { ...op.requestBody, required: false };
    }
  }
  return doc;
}

/** Health, readiness and metrics: polled by machines, logged at debug while they succeed. */
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Paths whose answers are an organization's own (its settings, a signing secret shown once) or a
 * credential (the session's CSRF token, the sign-in cookie): no cache, shared or the browser's, keeps
 * them, unless the route says otherwise. The dashboard's files and the docs stay cacheable.
 */
const PRIVATE_ANSWERS = /^\/(api|auth)(\/|\?|$)/;

/**
 * The dashboard and the API docs (swagger-ui, whose page and initializer are files, with no inline
 * script or style) load nothing from anywhere else: no inline script or style, no external fonts,
 * scripts, CDNs or validator badge, and they may not be framed (clickjacking) or post forms elsewhere.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** What a client's x-request-id may look like to be reused. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const holdsValue = (id: string) => findingTypesInIdentifier(id).length > 0 || findingTypesInIdentifier(id.replace(/[-._]/g, ' ')).length > 0;

/**
 * Builds the HTTP application (not listening): the REST API, health and metrics, OpenAPI docs and the
 * dashboard. Schemas on every route both validate requests and generate /openapi.json.
 */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    // Typed as Fastify's base logger so the instance keeps default generics (pino's Logger type would leak into every route type).
    loggerInstance: ctx.logger as unknown as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      // A client's id is written on every log line of its request and echoed: one with a value in it
      // ("123-45-6789", an access key id) would put that value in the operator's logs, where detected
      // values never go. Read as the guard reads a record's identifiers; else the request gets its own.
      // (Long digit runs pass: a timestamp or a sequence number is a common request id.) Read again
      // with its separators as spaces: "123-45-6789-1" is one longer number to the detectors, and an
      // SSN once its parts stand apart.
      return typeof given === 'string' && REQUEST_ID.test(given) && !holdsValue(given) ? given : randomUUID();
    },
    bodyLimit: 2 * 1024 * 1024,
    // Fastify sets Node's requestTimeout to 0 (none) by default: a request whose body never ended held
    // its connection and what had arrived of it for ever, with no credentials (an attacker's review:
    // 60 connections of 2 MiB bodies one byte short, 110 MB held for as long as they stayed). Node
    // checks every connectionsCheckingInterval (30 s by default), so a request is cut within a few
    // seconds of its limit; the answer is the 408 of clientError.ts.
    requestTimeout: ctx.config.apiRequestTimeoutMs,
    http: { connectionsCheckingInterval: Math.min(5000, Math.ceil(ctx.config.apiRequestTimeoutMs / 4)) },
    ajv: { customOptions: { ...REQUEST_AJV_OPTIONS } },
    trustProxy: false,
    // "/forwarding-destinations/" is the collection, as a client that builds URLs by joining parts
    // writes it: without this the empty last segment was read as a destination id, answering a
    // list 400 ("destination_id: must be a destination id") and a create 405 naming GET, PATCH and
    // DELETE (an authorization review); other paths answered 404.
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: routerError,
    clientErrorHandler: answerClientError,
    // Fastify's own request log prints the full URL, query string included, and a sign-in link carries
    // its token there. We log requests ourselves below, path only.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Node's own limit for the headers stays 60 s, but not above the request's: with the headers' limit
  // the longer, Node 20 cut a request only at the headers' limit (measured: 60 s for a limit of 2 s).
  app.server.headersTimeout = Math.min(60_000, ctx.config.apiRequestTimeoutMs);
  limitPipelining(app);
  app.addSchema(ErrorBody);
  app.addSchema(ReplayView);
  app.addSchema(DestinationView);
  installErrorHandler(app);
  strictJsonBodies(app);
  refuseUnstorableText(app);
  app.addHook('onResponse', async (req, reply) => {
    // Probes and scrapes arrive every few seconds from load balancers and Prometheus and would bury
    // the requests an operator reads logs for: they log at debug unless they fail.
    const probe = PROBE_PATHS.has(req.url.split('?')[0] ?? '');
    const level = probe && reply.statusCode < 400 ? 'debug' : 'info';
    // Not built for a line the logger drops (probes at info, the default): safePath scans each segment.
    if (level === 'debug' && req.log.level !== 'debug' && req.log.level !== 'trace') return;
    // Any route takes values in its path (ids, or whatever a client typed there): logged as the 404
    // answer echoes it, every segment with something detectable in it replaced, but for the ids the
    // request proved to be the service's own.
    req.log[level](
      { method: req.method, path: safePath(req.url, requestLogIds(req, reply.statusCode)), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });
  // Behind an https AEGIS_PUBLIC_URL, browsers are told to use https only for a year: a later visit
  // typed or linked as http:// is never sent in the clear, where an attacker on the network could
  // answer it with a page of their own. No includeSubDomains: the service does not own its domain's
  // other hosts. Browsers ignore the header on http answers, so it is not sent there.
  // Not for localhost or an address: HSTS binds the whole host, every port, and a developer's
  // https://localhost would turn every other local http server away for a year.
  const publicHost = new URL(ctx.config.publicUrl);
  const hsts = publicHost.protocol === 'https:' && !/^(localhost\.?|\[.*\]|[\d.]+)$/i.test(publicHost.hostname);
  app.addHook('onSend', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    if (hsts) void reply.header('strict-transport-security', 'max-age=31536000');
    void reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('referrer-policy')) void reply.header('referrer-policy', 'no-referrer');
    // The route's own path where one matched: Fastify routes "/%61pi/..." as "/api/...".
    if (PRIVATE_ANSWERS.test(req.routeOptions.url ?? req.url) && !reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  });

  await app.register(cookie);
  // The dashboard session's cookie: its name follows the public URL's scheme (auth.ts).
  const session = sessionCookie(new URL(ctx.config.publicUrl));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Aegis Audit Stream API',
        version: VERSION,
        description:
          "Forward every Aegis audit event to your SIEM. Authenticate with `Authorization: Bearer <api key>`. The dashboard uses its session cookie instead, and sends the session's CSRF token in `x-csrf-token` with every write.",
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (aegis-stream api-keys create).' },
          session: { type: 'apiKey', in: 'cookie', name: session.name, description: 'The dashboard session, set by POST /auth/login.' },
          csrf: {
            type: 'apiKey',
            in: 'header',
            name: CSRF_HEADER,
            description: 'csrf_token of GET /api/session; required with the session cookie on every write.',
          },
        },
      },
      // Each route states its own (schemas/common.ts SECURITY); this covers none of them by default.
      security: SECURITY.apiRead,
    },
    // Shared schemas appear under their own $id (ErrorBody, Replay, Destination), not def-0, def-1.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transformObject: (doc) => ('openapiObject' in doc ? markOptionalBodies(doc.openapiObject) : doc.swaggerObject),
  });
  // staticCSP as a string sets exactly this header on every /docs response (page, assets, spec).
  // /docs/json is the same document as /openapi.json: the UI's own handler (which serialises it
  // again on every load) is answered for by the shared one.
  const openapi = openapiAnswer(() => app.swagger());
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: PAGE_CSP,
    uiHooks: {
      // An answer sent from a callback hook ends the request there: done is not called then.
      onRequest: (req, reply, done) => {
        if (req.routeOptions.url === '/docs/json') openapi(req, reply);
        else done();
      },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async (req, reply) => openapi(req, reply));

  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  healthRoutes(typed, ctx);
  if (!ctx.apiEnabled) return app;
  // One line a minute per kind (LineThrottle), each saying how many refusals it stands for.
  const refusalLines = new LineThrottle(60_000);
  const checks = new CredentialChecks(checkLimits(ctx.config.apiNewCredentialsPerSecond), {
    refused: (reason) => {
      ctx.metrics.apiRequestsRefused.inc({ reason: `unseen_credentials_${reason}` });
      const heldBack = refusalLines.take('unseen credentials');
      if (heldBack !== null)
        ctx.logger.warn(
          { reason, refused_since_last_line: heldBack },
          'refused a request with 429: credentials this server has not checked yet are arriving faster than they can be checked (a flood of made-up keys or cookies?); credentials already accepted are not held up (logged once a minute)',
        );
    },
  });
  // Every stored key and live session counts as accepted from the start (seenCredentials.ts).
  const seen = keepSeenCredentials(ctx.db, checks, ctx.logger);
  app.addHook('onClose', async () => seen.stop());
  await seen.ready;
  sessionRoutes(typed, ctx, checks, session);

  const admission = new OrgAdmission(admissionLimits(ctx.config.apiMaxConcurrentPerOrg), {
    refused: (orgId, reason) => {
      ctx.metrics.apiRequestsRefused.inc({ reason });
      const heldBack = refusalLines.take(orgId);
      if (heldBack !== null)
        ctx.logger.warn(
          { org_id: orgId, reason, max_concurrent: ctx.config.apiMaxConcurrentPerOrg, refused_since_last_line: heldBack },
          "refused an organization's request with 429: it has AEGIS_API_MAX_CONCURRENT_PER_ORG requests in flight and no room to wait (logged once a minute per organization)",
        );
    },
    waiting: (delta) => ctx.metrics.apiRequestsWaiting.inc(delta),
    inFlight: (delta) => ctx.metrics.apiRequestsInFlight.inc(delta),
  });
  await typed.register(async (api) => {
    api.addHook('onRequest', requireOrg(ctx.db, checks, session));
    // Right after authentication, in the same stage: a request waiting for its organization's place
    // has not had its body read. Before the routes: it wraps their handlers, which keep the place.
    admitPerOrg(api, admission);
    destinationRoutes(api, ctx);
    replayRoutes(api, ctx);
    eventRoutes(api, ctx);
    notificationRoutes(api, ctx);
    activityRoutes(api, ctx);
    loginLinkRoutes(api, ctx, checks);
  });

  if (ctx.webRoot && existsSync(ctx.webRoot)) {
    await app.register(fastifyStatic, {
      root: ctx.webRoot,
      wildcard: false,
      index: ['index.html'],
      setHeaders: (reply) => void reply.header('content-security-policy', PAGE_CSP),
    });
    // The dashboard is a single-page app: its client-side routes all serve index.html.
    const spa = async (_req: FastifyRequest, reply: FastifyReply) => reply.header('content-security-policy', PAGE_CSP).sendFile('index.html');
    app.get('/settings/*', { schema: { hide: true } }, spa);
    app.get('/settings', { schema: { hide: true } }, spa);
  }
  return app;
}
