// Sumo Logic's form preset and format hints (docs/siem/sumo_logic.md).
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { defineForm, type FormatHint, type FormatHintInput } from '../form.js';

function sumoHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  const name = input.authHeaderName?.trim().toLowerCase() ?? '';
  const value = (input.authHeaderValue ?? '').trim();
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const host = u.hostname.toLowerCase();
    if (!host.endsWith('.sumologic.com') && !host.endsWith('.sumologic.net')) {
      hints.push({
        field: 'url',
        severity: 'warning',
        message: 'Sumo Logic HTTP Source URLs are on sumologic.com (endpoint<N>.collection.<deployment>.sumologic.com); check you copied the source URL.',
      });
    }
    const m = /^\/receiver\/v1\/http(?:\/([^/]+))?\/?$/.exec(u.pathname);
    if (!m) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'Paste the HTTP Source URL exactly as Sumo Logic shows it: it ends in /receiver/v1/http/<token>.',
      });
    } else if (!m[1]) {
      if (name !== 'x-sumo-token' || value === '') {
        hints.push({
          field: 'url',
          severity: 'error',
          message: 'The URL has no token after /receiver/v1/http/. Paste the full source URL, or set the x-sumo-token header if your source uses header auth.',
        });
      }
    }
  }
  if (name !== '' && name !== 'x-sumo-token' && value !== '') {
    hints.push({
      field: 'auth_header_name',
      severity: 'info',
      message: 'Sumo Logic reads the token from the URL (or the x-sumo-token header); this header is not needed.',
    });
  }
}

export const sumoLogicForm = defineForm({
  id: 'sumo_logic',
  label: 'Sumo Logic',
  credentialLabel: 'Source token (optional)',
  credentialHelp:
    'Usually nothing to paste: the HTTP Source URL already carries its token. Only sources set up for header auth need the x-sumo-token value here.',
  defaultHeaderName: null,
  headerNameChoices: ['x-sumo-token'],
  prefix: '',
  urlLabel: 'HTTP Source address',
  urlPlaceholder: 'https://endpoint1.collection.sumologic.com/receiver/v1/http/<token>',
  urlHelp: 'Collection → your Hosted Collector → HTTP Logs & Metrics Source → Show URL. Paste the whole URL, token included.',
  docsPath: 'docs/siem/sumo_logic.md',
  blurb: 'HTTP Logs & Metrics Source',
  optionFields: [
    { key: 'category', label: 'Source category', help: 'Sent as X-Sumo-Category; empty keeps the source’s own.' },
    { key: 'sourceName', label: 'Source name', help: 'Sent as X-Sumo-Name; empty keeps the source’s own.' },
    { key: 'sourceHost', label: 'Source host', help: 'Sent as X-Sumo-Host; empty keeps the source’s own.' },
    { key: 'fields', label: 'Fields', help: 'Sent as X-Sumo-Fields: key=value pairs, comma-separated, e.g. env=prod,team=sec.' },
  ],
  hints: sumoHints,
});
