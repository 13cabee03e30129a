// The api-noisy scenario's two clients: org A floods POST /audit-events from many connections, org B
// is one person at a dashboard and an agent's preflight, whose latency is what the per-organization
// admission gate (src/api/orgAdmission.ts) is for. The bench process is their only client.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { agentRecord, PREFLIGHT_BODY } from './setup.js';

export interface OrgKey {
  orgId: string;
  apiKey: string;
}

export interface LatencyStats {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of request times, whole milliseconds. */
export function latencyStats(ms: number[]): LatencyStats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!) : NaN);
  return { n: s.length, p50: at(50), p99: at(99), max: at(100) };
}

export interface QuietResult {
  preflightMs: LatencyStats;
  listMs: LatencyStats;
  /** Answers by status code, both kinds of request. */
  codes: Record<string, number>;
}

const headers = (org: OrgKey) => ({ authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' });

/**
 * Org B for `seconds`: one client sending a preflight, then listing its destinations, 50 ms apart,
 * one request at a time (so each time is that request's alone, not a queue the client built).
 */
export async function quietClient(apiPort: number, org: OrgKey, seconds: number): Promise<QuietResult> {
  const agent = new Agent({ connections: 2 });
  const base = `http://127.0.0.1:${apiPort}/api/orgs/${org.orgId}`;
  const pre: number[] = [];
  const list: number[] = [];
  const codes: Record<string, number> = {};
  const timed = async (into: number[], path: string, body?: string) => {
    const t = performance.now();
    const res = await request(`${base}${path}`, { method: body ? 'POST' : 'GET', headers: headers(org), body, dispatcher: agent });
    await res.body.text();
    into.push(performance.now() - t);
    codes[res.statusCode] = (codes[res.statusCode] ?? 0) + 1;
  };
  const until = performance.now() + seconds * 1000;
  try {
    while (performance.now() < until) {
      await timed(pre, '/preflight', PREFLIGHT_BODY);
      await timed(list, '/forwarding-destinations');
      await sleep(50);
    }
  } finally {
    await agent.close();
  }
  return { preflightMs: latencyStats(pre), listMs: latencyStats(list), codes };
}

export interface Flood {
  /** Requests answered so far (any status, failures included). */
  requests(): number;
  /** Events recorded so far (records of requests answered 200). */
  events(): number;
  /** Answers by status code; 0: the request failed without an answer. */
  codes(): Record<string, number>;
  /** Stops the loops and waits for their last requests' answers. */
  stop(): Promise<void>;
}

/**
 * Org A: `clients` loops, each posting `records` audit records, waiting for the answer, and posting
 * again at once. A 429 is obeyed as a well-behaved producer would: it waits Retry-After seconds.
 */
export function startFlood(apiPort: number, org: OrgKey, clients: number, records: number): Flood {
  const agent = new Agent({ connections: clients });
  const url = `http://127.0.0.1:${apiPort}/api/orgs/${org.orgId}/audit-events`;
  const codes: Record<string, number> = {};
  let stopped = false;
  let seq = 0;
  let answered = 0;
  let recorded = 0;
  const loop = async () => {
    while (!stopped) {
      const events = Array.from({ length: records }, () => {
        const i = seq++;
        return agentRecord(`pflt_apn${String(i).padStart(19, '0')}`, i);
      });
      let status = 0;
      let retryAfterS = 0;
      try {
        const res = await request(url, { method: 'POST', headers: headers(org), body: JSON.stringify({ events }), dispatcher: agent });
        await res.body.text();
        status = res.statusCode;
        retryAfterS = Number(res.headers['retry-after'] ?? 1) || 1;
      } catch {
        // No answer (reset, timeout): counted under 0.
      }
      answered++;
      codes[status] = (codes[status] ?? 0) + 1;
      if (status === 200) recorded += records;
      else if (status === 429) await sleep(retryAfterS * 1000);
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    requests: () => answered,
    events: () => recorded,
    codes: () => ({ ...codes }),
    async stop() {
      stopped = true;
      await Promise.all(loops);
      await agent.close();
    },
  };
}

const REFUSED = 'aegis_api_requests_refused_total';

/**
 * The API's own count of 429s from its /metrics text: 0 when the counter is declared but no reason
 * has a series yet (prom-client prints a labelled counter's series only once incremented), null when
 * the build has no such counter (a --src-rev before the gate).
 */
export function refusedTotal(metricsText: string): number | null {
  if (!metricsText.includes(`# TYPE ${REFUSED} `)) return null;
  return metricsText
    .split('\n')
    .filter((l) => l.startsWith(`${REFUSED}{`) || l.startsWith(`${REFUSED} `))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

export async function apiRefusals(apiPort: number): Promise<number | null> {
  try {
    const res = await request(`http://127.0.0.1:${apiPort}/metrics`);
    return refusedTotal(await res.body.text());
  } catch {
    return null;
  }
}
