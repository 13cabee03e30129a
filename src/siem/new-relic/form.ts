// New Relic's form preset (region picker) and format hints (docs/siem/new_relic.md).
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { defineForm, type FormatHint, type FormatHintInput, type SiemUrlChoice } from '../form.js';
import { expectHeaderName } from '../hintKit.js';

export const NEW_RELIC_REGIONS: readonly SiemUrlChoice[] = [
  { id: 'us', label: 'US', url: 'https://log-api.newrelic.com/log/v1' },
  { id: 'eu', label: 'EU', url: 'https://log-api.eu.newrelic.com/log/v1' },
  { id: 'jp', label: 'Japan', url: 'https://log-api.jp.nr-data.net/log/v1' },
  { id: 'fedramp', label: 'FedRAMP', url: 'https://gov-log-api.newrelic.com/log/v1' },
];

function regionOfNewRelicUrl(u: URL): SiemUrlChoice | undefined {
  return NEW_RELIC_REGIONS.find((r) => {
    const ru = new URL(r.url);
    return ru.hostname === u.hostname.toLowerCase();
  });
}

function newRelicHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  const chosen = input.region ? NEW_RELIC_REGIONS.find((r) => r.id === input.region) : undefined;
  let urlRegion: SiemUrlChoice | undefined;
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    urlRegion = regionOfNewRelicUrl(u);
    const fallback = chosen ?? NEW_RELIC_REGIONS[0]!;
    if (!urlRegion) {
      // A warning, as Datadog's: a proxy forwarding to New Relic is a supported address
      // (docs/dashboard.md), and an accessibility review's user saw it marked invalid, then the test pass.
      hints.push({
        field: 'url',
        severity: 'warning',
        message:
          'This is not a New Relic Log API endpoint: right for a proxy that forwards to New Relic; otherwise pick your region and we fill in its /log/v1 URL.',
        fix: { label: `Use the ${fallback.label} endpoint`, value: fallback.url },
      });
    } else if (u.pathname.replace(/\/+$/, '') !== '/log/v1') {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'The Log API path is /log/v1.',
        fix: { label: 'Use /log/v1', value: urlRegion.url },
      });
    }
    if (chosen && urlRegion && chosen.id !== urlRegion.id) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: `The URL is the ${urlRegion.label} endpoint but you picked ${chosen.label}; a key is refused outside its own region (403).`,
        fix: { label: `Use the ${chosen.label} endpoint`, value: chosen.url },
      });
    }
  }

  expectHeaderName(input, ['Api-Key', 'X-License-Key'], hints);
  const raw = (input.authHeaderValue ?? '').trim();
  if (raw === '') {
    hints.push({ field: 'auth_header_value', severity: 'error', message: 'Paste your New Relic license key.' });
    return;
  }
  const key = raw.replace(/^(Bearer|ApiKey)\s+/i, '');
  if (key !== raw) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'New Relic takes the key alone, with no prefix.',
      fix: { label: 'Remove the prefix', value: key },
    });
  }
  if (/^NRAK-/i.test(key)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This is a User key (NRAK-...), which cannot send logs. Use your INGEST - LICENSE key (ends in NRAL).',
    });
  } else if (/^NRJS-/i.test(key)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This is a Browser key (NRJS-...), which cannot send logs. Use your INGEST - LICENSE key (ends in NRAL).',
    });
  } else if (/^NRII-/i.test(key)) {
    const headerName = input.authHeaderName?.trim().toLowerCase() ?? '';
    if (headerName === 'x-license-key') {
      hints.push({
        field: 'auth_header_name',
        severity: 'error',
        message: 'An Insert key (NRII-...) goes in the Api-Key header, not X-License-Key.',
        fix: { label: 'Use Api-Key', value: 'Api-Key' },
      });
    }
  } else if (!/^[0-9A-Za-z]{36}NRAL$/.test(key) && !/^[0-9a-f]{40}$/i.test(key)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'New Relic license keys are 40 characters and end in NRAL; check that you copied the whole INGEST - LICENSE key.',
    });
  }
  if (u && urlRegion && /^eu\d\d/i.test(key) && urlRegion.id !== 'eu') {
    const eu = NEW_RELIC_REGIONS.find((r) => r.id === 'eu')!;
    hints.push({
      field: 'url',
      severity: 'error',
      message: 'This is an EU account key (it starts with "eu"); send it to the EU endpoint, or New Relic answers 403.',
      fix: { label: 'Use the EU endpoint', value: eu.url },
    });
  }
}

export const newRelicForm = defineForm({
  id: 'new_relic',
  label: 'New Relic',
  credentialLabel: 'License key',
  credentialHelp: 'API keys → your INGEST - LICENSE key (40 characters, ending in NRAL). Use a key of the same region as the endpoint.',
  defaultHeaderName: 'Api-Key',
  headerNameChoices: ['Api-Key', 'X-License-Key'],
  prefix: '',
  urlLabel: 'Log API endpoint',
  urlPlaceholder: NEW_RELIC_REGIONS[0]!.url,
  urlHelp: 'Pick the region of your New Relic account; we fill in its Log API endpoint.',
  regions: NEW_RELIC_REGIONS,
  docsPath: 'docs/siem/new_relic.md',
  blurb: 'Log API, any region',
  hints: newRelicHints,
});
