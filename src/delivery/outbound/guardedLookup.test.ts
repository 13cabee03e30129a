// The guarded lookup against a DNS server of our own (node:dgram on 127.0.0.1): it answers some names
// at once, says others do not exist, and holds the queries for the rest until told to answer them,
// as a tenant's DNS server that never answers would.
import dgram from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentFactory } from './agents.js';
import { createGuardedLookup, type GuardedLookupOptions, type ResolveAddresses } from './guardedLookup.js';
import { classifyResult } from '../failure.js';

const TYPE_A = 1;
const TYPE_AAAA = 28;

interface Query {
  name: string;
  type: number;
}

interface HeldQuery extends Query {
  reply: (rcode: number, addresses?: string[]) => void;
}

interface DnsServer {
  server: string;
  queries: Query[];
  held: HeldQuery[];
  /** Answers every held query with NXDOMAIN (so nothing stays pending after a test). */
  releaseHeld(): void;
  close(): Promise<void>;
}

/** name -> addresses; a name with no entry and starting with `hang` is held, any other is NXDOMAIN. */
type Zone = Record<string, { a?: string[]; aaaa?: string[] }>;

function parseQuestion(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let at = 12;
  while (msg[at]! !== 0) {
    const len = msg[at]!;
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('ascii'));
    at += 1 + len;
  }
  at += 1;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(at), end: at + 4 };
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function answer(msg: Buffer, question: { type: number; end: number }, rcode: number, addresses: string[]): Buffer {
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | rcode, 2); // response, recursion desired + available
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((address) => {
    const data = question.type === TYPE_A ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(question.type, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, msg.subarray(12, question.end), ...records]);
}

async function startDnsServer(zone: Zone, holds: (name: string, type: number) => boolean = (name) => name.startsWith('hang')): Promise<DnsServer> {
  const socket = dgram.createSocket('udp4');
  const queries: Query[] = [];
  const held: HeldQuery[] = [];
  socket.on('message', (msg, peer) => {
    const question = parseQuestion(msg);
    const { name, type } = question;
    queries.push({ name, type });
    const reply = (rcode: number, addresses: string[] = []) => socket.send(answer(msg, question, rcode, addresses), peer.port, peer.address);
    const entry = zone[name];
    if (holds(name, type)) held.push({ name, type, reply });
    else if (entry) reply(0, (type === TYPE_A ? entry.a : type === TYPE_AAAA ? entry.aaaa : undefined) ?? []);
    else reply(3); // NXDOMAIN
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries,
    held,
    releaseHeld: () => {
      for (const q of held.splice(0)) q.reply(3);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

interface Outcome {
  code?: string | undefined;
  message?: string | undefined;
  address: unknown;
  family?: number | undefined;
}

type Lookup = ReturnType<typeof createGuardedLookup>;

function lookupWith(lookup: Lookup, host: string, options: { all?: boolean; family?: number } = { all: true }): Promise<Outcome> {
  return new Promise((resolve) => {
    lookup(host, options, (err, address, family) => resolve({ code: err?.code, message: err?.message, address, family }));
  });
}

/** Waits for a condition, with a generous ceiling (no assertion on how long it takes). */
async function until(condition: () => boolean, what: string, ceilingMs = 20_000): Promise<void> {
  const deadline = Date.now() + ceilingMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type ServerSpec = [zone: Zone, holds?: (name: string, type: number) => boolean];

/** Two DNS servers of their own for `test`, in the order given, held queries released and both closed after. */
async function withTwoServers(first: ServerSpec, second: ServerSpec, test: (a: DnsServer, b: DnsServer) => Promise<void>): Promise<void> {
  const a = await startDnsServer(...first);
  const b = await startDnsServer(...second);
  try {
    await test(a, b);
  } finally {
    a.releaseHeld();
    b.releaseHeld();
    await a.close();
    await b.close();
  }
}

const ZONE: Zone = {
  'good.test': { a: ['127.0.0.1'] },
  'public.test': { a: ['93.184.215.14'], aaaa: ['2606:2800:21f:cb07::1'] },
  'private.test': { a: ['10.0.0.1'] },
  'mixed.test': { a: ['93.184.215.14'], aaaa: ['::ffff:a9fe:a9fe'] }, // ::ffff:169.254.169.254
  'v6only.test': { aaaa: ['2606:2800:21f:cb07::1'] },
};

/** More hanging lookups than libuv lets getaddrinfo run at once (half its pool of 4 by default). */
const HANGING = 8;

let dns: DnsServer;

beforeAll(async () => {
  dns = await startDnsServer(ZONE);
});

afterEach(() => {
  dns.releaseHeld();
  dns.queries.length = 0;
});

afterAll(async () => {
  await dns.close();
});

function guarded(allowPrivate: boolean, options: Partial<GuardedLookupOptions> = {}): Lookup {
  return createGuardedLookup(allowPrivate, undefined, { timeoutMs: 60_000, servers: [dns.server], ...options });
}

describe('guarded lookup: a name whose DNS never answers holds up no other', () => {
  it('answers a healthy name while more hanging lookups than the thread pool has lookup slots are pending', async () => {
    const lookup = guarded(true);
    const hanging = Array.from({ length: HANGING }, (_, i) => {
      const outcome = { done: false };
      void lookupWith(lookup, `hang-${i}.test`).then(() => (outcome.done = true));
      return outcome;
    });
    await until(() => new Set(dns.held.map((q) => q.name)).size === HANGING, 'every hanging name to be asked');
    const healthy = await lookupWith(lookup, 'good.test');
    expect(healthy).toMatchObject({ code: undefined, address: [{ address: '127.0.0.1', family: 4 }] });
    // The healthy answer came while every hanging lookup was still waiting on its DNS server.
    expect(hanging.filter((h) => h.done)).toHaveLength(0);
  });

  it('connects to a healthy host while connections to hanging hosts are still resolving', async () => {
    const server: Server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const agent: Agent = agentFactory({ allowPrivate: true, timeoutMs: 60_000, dnsServers: [dns.server] })(4);
    try {
      const hanging = Array.from({ length: HANGING }, (_, i) => {
        const outcome = { done: false };
        void request(`http://hang-agent-${i}.test:${port}/`, { dispatcher: agent, method: 'POST', body: '{}' })
          .then((r) => r.body.dump())
          .catch(() => undefined)
          .finally(() => (outcome.done = true));
        return outcome;
      });
      await until(() => new Set(dns.held.map((q) => q.name)).size === HANGING, 'every hanging host to be asked');
      const healthy = await request(`http://good.test:${port}/`, { dispatcher: agent, method: 'POST', body: '{}' });
      expect(healthy.statusCode).toBe(200);
      expect(await healthy.body.text()).toBe('ok');
      expect(hanging.filter((h) => h.done)).toHaveLength(0);
      dns.releaseHeld();
      await until(() => hanging.every((h) => h.done), 'the hanging requests to fail once their DNS answers');
    } finally {
      await agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('asks the DNS server once for concurrent lookups of the same name', async () => {
    const lookup = guarded(true, { systemLookup: () => Promise.resolve([{ address: '127.0.0.2', family: 4 }]) });
    const all = Array.from({ length: 5 }, () => lookupWith(lookup, 'hang-same.test', { all: true, family: 4 }));
    await until(() => dns.held.length > 0, 'the query to arrive');
    dns.releaseHeld();
    const outcomes = await Promise.all(all);
    for (const o of outcomes) expect(o).toMatchObject({ code: undefined, address: [{ address: '127.0.0.2', family: 4 }] });
    expect(dns.queries.filter((q) => q.name === 'hang-same.test')).toEqual([{ name: 'hang-same.test', type: TYPE_A }]);
  });

  it('waits out a slow DNS server within its budget after quick answers from the same server', async () => {
    // A resolver that has had a few quick answers sets each try's timeout from the server's latency
    // (about a second, not ours), and with few tries a slow answer was given up at about 2 s whatever
    // the connect timeout. Each lookup has a fresh resolver: its second try comes a third of the budget
    // in, and an answer to it is taken.
    const lookup = guarded(false, { timeoutMs: 6_000 });
    for (let i = 0; i < 5; i++) expect((await lookupWith(lookup, 'public.test', { all: true, family: 4 })).code).toBeUndefined();
    const late = lookupWith(lookup, 'hang-late.test', { all: true, family: 4 });
    await until(() => dns.queries.filter((q) => q.name === 'hang-late.test').length >= 2, 'a second try', 30_000);
    for (const q of dns.held.splice(0)) q.reply(0, ['93.184.215.14']);
    expect(await late).toMatchObject({ code: undefined, address: [{ address: '93.184.215.14', family: 4 }] });
  });

  it('asks the DNS server no more once a lookup is given up at its deadline', async () => {
    // A query left running goes on after the connection failed: Node checks c-ares's timeouts about
    // once a second, so with the smallest timeout (100 ms: an 80 ms budget) the second try would go
    // out some time after the deadline. Cancelled at the deadline, it never does.
    const r = await lookupWith(guarded(false, { timeoutMs: 100 }), 'hang-cancel.test', { all: true, family: 4 });
    expect(r.code).toBe('EAI_AGAIN');
    // Packets sent before the deadline reach the server in a turn of the loop of their own.
    await new Promise((r) => setImmediate(r));
    const asked = dns.queries.filter((q) => q.name === 'hang-cancel.test').length;
    expect(asked).toBeGreaterThan(0);
    // Long enough for several more tries of a query still running (each within about a second here);
    // a busy machine can only delay them, so this cannot fail on a cancelled query.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(dns.queries.filter((q) => q.name === 'hang-cancel.test')).toHaveLength(asked);
  });

  it('asks a first DNS server that did not answer after the others, so one dead nameserver costs one wait', async () => {
    // resolv.conf's first nameserver down (a resolver of another network on a multi-homed host): each
    // lookup's fresh resolver would ask it first and wait a third of its budget before the next server.
    const silent = dgram.createSocket('udp4');
    let asked = 0;
    silent.on('message', () => asked++);
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const lookup = guarded(false, { timeoutMs: 1_500, servers: [`127.0.0.1:${silent.address().port}`, dns.server] });
      expect(await lookupWith(lookup, 'public.test', { all: true, family: 4 })).toMatchObject({ address: [{ address: '93.184.215.14' }] });
      const afterFirst = asked;
      expect(afterFirst).toBeGreaterThan(0);
      for (const name of ['public.test', 'v6only.test', 'public.test']) expect((await lookupWith(lookup, name, { all: true })).code).toBeUndefined();
      expect(asked).toBe(afterFirst);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("keeps an internal first server first when one tenant's name is slow everywhere (split-horizon DNS)", async () => {
    // An internal resolver first (it knows corp.test), a public one after (NXDOMAIN for corp.test). A
    // tenant's destination under slow authoritative servers: the internal resolver answers late, the
    // public one has no address. Asking the internal one last would make corp.test fail for everyone.
    await withTwoServers([{ 'corp.test': { a: ['93.184.215.14'] } }], [{}, () => false], async (internal, outside) => {
      const lookup = guarded(false, { timeoutMs: 1_500, servers: [internal.server, outside.server] });
      const slow = lookupWith(lookup, 'hang-slow.test', { all: true, family: 4 });
      await until(() => outside.queries.some((q) => q.name === 'hang-slow.test'), 'the slow name to reach the second server');
      for (const q of internal.held.splice(0)) q.reply(0, ['93.184.215.14']);
      expect((await slow).code).toBe('ENOTFOUND');
      expect(await lookupWith(lookup, 'corp.test', { all: true, family: 4 })).toMatchObject({ code: undefined, address: [{ address: '93.184.215.14' }] });
    });
  });

  it('asks an internal server moved last before taking "no such name" from the public one', async () => {
    // A tenant's DNS answers the public resolver and ignores the internal one (their source addresses
    // differ): the internal one looks dead and is moved last. Its internal names must still resolve.
    await withTwoServers(
      [{ 'corp.test': { a: ['93.184.215.14'] } }],
      [{ 'hang-tenant.test': { a: ['93.184.215.15'] } }, () => false],
      async (internal, outside) => {
        const lookup = guarded(false, { timeoutMs: 1_500, servers: [internal.server, outside.server] });
        expect((await lookupWith(lookup, 'hang-tenant.test', { all: true, family: 4 })).code).toBeUndefined();
        expect(await lookupWith(lookup, 'corp.test', { all: true, family: 4 })).toMatchObject({ code: undefined, address: [{ address: '93.184.215.14' }] });
        // Back in its place: the next internal name goes to it first, the public server not asked.
        const outsideAsked = outside.queries.length;
        expect((await lookupWith(lookup, 'corp.test', { all: true, family: 4 })).code).toBeUndefined();
        expect(outside.queries.length).toBe(outsideAsked);
      },
    );
  });

  it('asks the other servers for the family a first server drops (AAAA), and keeps both families', async () => {
    await withTwoServers(
      [{ 'dual.test': { a: ['93.184.215.14'] } }, (_name, type) => type === TYPE_AAAA],
      [{ 'dual.test': { a: ['93.184.215.14'], aaaa: ['2606:2800:21f:cb07::1'] } }, () => false],
      async (first, second) => {
        const lookup = guarded(false, { timeoutMs: 1_500, servers: [first.server, second.server] });
        expect(await lookupWith(lookup, 'dual.test')).toMatchObject({
          code: undefined,
          address: [
            { address: '93.184.215.14', family: 4 },
            { address: '2606:2800:21f:cb07::1', family: 6 },
          ],
        });
      },
    );
  });

  it('fails a lookup that outlasts its time as a DNS failure (EAI_AGAIN), never falling back to the system resolver', async () => {
    let fellBack = false;
    const systemLookup: ResolveAddresses = () => {
      fellBack = true;
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    };
    const r = await lookupWith(guarded(true, { timeoutMs: 300, systemLookup }), 'hang-timeout.test');
    expect(r.code).toBe('EAI_AGAIN');
    expect(r.message).toContain('hang-timeout.test');
    expect(fellBack).toBe(false);
  });
});

describe('guarded lookup: the forbidden-address check on every answer', () => {
  // Neither the address nor its kind is said: a tenant's test probe would otherwise map the internal
  // DNS (vault.internal.corp resolves to 10.20.30.40) one name at a time.
  it('refuses a name whose DNS answer is private, naming neither the address nor its kind', async () => {
    const r = await lookupWith(guarded(false), 'private.test');
    expect(r).toMatchObject({ code: 'EAEGISFORBIDDEN', message: 'private.test resolves to an address refused for outbound delivery' });
    const said = classifyResult(
      { kind: 'network', failure: 'forbidden_address', code: r.code, message: r.message!, durationMs: 1, host: 'private.test' },
      undefined,
      'SIEM',
    );
    expect(said.error).toMatch(/^Refused: .*private\.test resolves to an address refused for outbound delivery.*use a public HTTPS endpoint\.$/);
    expect(said.error).not.toMatch(/10\.0\.0\.1|\(private\)/);
  });

  it('refuses a mixed answer whole (a public A record beside a metadata AAAA record)', async () => {
    const r = await lookupWith(guarded(false), 'mixed.test');
    expect(r.code).toBe('EAEGISFORBIDDEN');
    expect(r.message).toBe('mixed.test resolves to an address refused for outbound delivery');
  });

  it('passes a public answer of both families, and only the family asked for', async () => {
    const lookup = guarded(false);
    expect(await lookupWith(lookup, 'public.test')).toMatchObject({
      code: undefined,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:2800:21f:cb07::1', family: 6 },
      ],
    });
    dns.queries.length = 0;
    expect(await lookupWith(lookup, 'public.test', { family: 4 })).toMatchObject({ address: '93.184.215.14', family: 4 });
    expect(dns.queries).toEqual([{ name: 'public.test', type: TYPE_A }]);
    dns.queries.length = 0;
    expect(await lookupWith(lookup, 'public.test', { family: 6, all: true })).toMatchObject({
      address: [{ address: '2606:2800:21f:cb07::1', family: 6 }],
    });
    expect(dns.queries).toEqual([{ name: 'public.test', type: TYPE_AAAA }]);
    expect(await lookupWith(lookup, 'v6only.test', { all: false })).toMatchObject({ address: '2606:2800:21f:cb07::1', family: 6 });
  });
});

describe('guarded lookup: names DNS does not know', () => {
  it('reports ENOTFOUND without private destinations, never asking the system resolver (/etc/hosts)', async () => {
    let fellBack = false;
    const systemLookup: ResolveAddresses = () => {
      fellBack = true;
      return Promise.resolve([{ address: '93.184.215.14', family: 4 }]);
    };
    const r = await lookupWith(guarded(false, { systemLookup }), 'nowhere.test');
    expect(r.code).toBe('ENOTFOUND');
    expect(fellBack).toBe(false);
  });

  it('asks the system resolver (/etc/hosts, search domains) when private destinations are allowed', async () => {
    const systemLookup: ResolveAddresses = (host) => Promise.resolve(host === 'siem-dev' ? [{ address: '127.0.0.1', family: 4 }] : []);
    const r = await lookupWith(guarded(true, { systemLookup }), 'siem-dev');
    expect(r).toMatchObject({ code: undefined, address: [{ address: '127.0.0.1', family: 4 }] });
  });

  it('resolves localhost through the system resolver, without asking DNS', async () => {
    const r = await lookupWith(guarded(true), 'localhost');
    expect(r.code).toBeUndefined();
    expect(Array.isArray(r.address)).toBe(true);
    expect(dns.queries.filter((q) => q.name === 'localhost')).toEqual([]);
    expect((await lookupWith(guarded(false), 'localhost')).code).toBe('EAEGISFORBIDDEN');
  });
});
