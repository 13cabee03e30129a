// Reading the service's /metrics in tests: one parser instead of one per file.
import type { TestService } from './harness.js';

/**
 * The sum of a series' samples in a Prometheus text: every label set of `series` when it names a
 * metric alone ("aegis_api_requests_refused_total"), or that one sample when it carries its labels
 * ('aegis_api_requests_refused_total{reason="queue_full"}'). NaN when there is no such sample.
 */
export function metricSum(text: string, series: string): number {
  const matches = text
    .split('\n')
    .filter((l) => l.startsWith(`${series} `) || (!series.includes('{') && l.startsWith(`${series}{`)))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  return matches.length === 0 ? NaN : matches.reduce((a, b) => a + b, 0);
}

/** metricSum of one scrape of the service's /metrics. */
export async function scrapeMetric(svc: TestService, series: string): Promise<number> {
  return metricSum((await svc.request('GET', '/metrics')).text, series);
}
