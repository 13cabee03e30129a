// Datadog Logs' form preset (site picker) and format hints (docs/siem/datadog.md).
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { defineForm, type FormatHint, type FormatHintInput, type SiemUrlChoice } from '../form.js';
import { expectHeaderName } from '../hintKit.js';

/** What the encoder sends as service and ddsource when the options are empty; the form shows them as defaults. */
export const DATADOG_DEFAULT_SERVICE = 'aegis-audit-stream';
export const DATADOG_DEFAULT_SOURCE = 'aegis';

export const DATADOG_SITES: readonly SiemUrlChoice[] = [
  { id: 'datadoghq.com', label: 'US1 (datadoghq.com)', url: datadogIntakeUrl('datadoghq.com') },
  { id: 'us3.datadoghq.com', label: 'US3 (us3.datadoghq.com)', url: datadogIntakeUrl('us3.datadoghq.com') },
  { id: 'us5.datadoghq.com', label: 'US5 (us5.datadoghq.com)', url: datadogIntakeUrl('us5.datadoghq.com') },
  { id: 'datadoghq.eu', label: 'EU (datadoghq.eu)', url: datadogIntakeUrl('datadoghq.eu') },
  { id: 'ap1.datadoghq.com', label: 'AP1 (ap1.datadoghq.com)', url: datadogIntakeUrl('ap1.datadoghq.com') },
  { id: 'ap2.datadoghq.com', label: 'AP2 (ap2.datadoghq.com)', url: datadogIntakeUrl('ap2.datadoghq.com') },
  { id: 'uk1.datadoghq.com', label: 'UK1 (uk1.datadoghq.com)', url: datadogIntakeUrl('uk1.datadoghq.com') },
  { id: 'ddog-gov.com', label: 'US1-FED (ddog-gov.com)', url: datadogIntakeUrl('ddog-gov.com') },
  { id: 'us2.ddog-gov.com', label: 'US2-FED (us2.ddog-gov.com)', url: datadogIntakeUrl('us2.ddog-gov.com') },
];

export function datadogIntakeUrl(site: string): string {
  return `https://http-intake.logs.${site}/api/v2/logs`;
}

function siteOfDatadogHost(host: string): string | undefined {
  // Longest match wins: us5.datadoghq.com must not be taken for datadoghq.com.
  let best: string | undefined;
  for (const s of DATADOG_SITES) {
    if ((host === s.id || host.endsWith(`.${s.id}`)) && (!best || s.id.length > best.length)) best = s.id;
  }
  return best;
}

function datadogHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  const chosen = input.site ? DATADOG_SITES.find((s) => s.id === input.site) : undefined;
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const host = u.hostname.toLowerCase();
    const urlSite = siteOfDatadogHost(host);
    const exact = DATADOG_SITES.find((s) => s.url === `https://${host}${u.pathname}` && u.port === '');
    if (!urlSite) {
      // A warning: a proxy forwarding to Datadog is a supported address (the URL field's help says
      // so), and a user who means one must not read it as refused.
      hints.push({
        field: 'url',
        severity: 'warning',
        message: 'This is not a Datadog logs intake URL: right for a proxy that forwards to Datadog; otherwise pick your Datadog site and we fill it in.',
        fix: { label: `Use ${(chosen ?? DATADOG_SITES[0]!).label}`, value: (chosen ?? DATADOG_SITES[0]!).url },
      });
    } else if (!exact && !(chosen && chosen.id !== urlSite)) {
      // (With another site picked, the mismatch below is the one fix: its URL is that site's intake.)
      const intake = datadogIntakeUrl(urlSite);
      const onIntakeHost = host === new URL(intake).hostname;
      hints.push({
        field: 'url',
        severity: 'error',
        message: onIntakeHost
          ? `Datadog receives logs at ${intake}; ${u.pathname} is not its logs API (v2).`
          : `Datadog receives logs at ${intake}; the app or API address of your site will not accept them.`,
        fix: { label: 'Use the logs intake URL', value: intake },
      });
    }
    if (chosen && urlSite && chosen.id !== urlSite) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: `The URL is for site ${urlSite} but you picked ${chosen.label}; a key from one site is refused by another (403).`,
        fix: { label: `Use ${chosen.label}`, value: chosen.url },
      });
    }
  }

  expectHeaderName(input, ['DD-API-KEY'], hints);
  const raw = (input.authHeaderValue ?? '').trim();
  if (raw === '') {
    hints.push({ field: 'auth_header_value', severity: 'error', message: 'Paste your Datadog API key.' });
    return;
  }
  const stripped = raw.replace(/^(DD-API-KEY\s*:|Bearer\s+|ApiKey\s+)/i, '').trim();
  if (stripped !== raw) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'Datadog takes the API key alone in the DD-API-KEY header, with no prefix.',
      fix: { label: 'Remove the prefix', value: stripped },
    });
  }
  if (/^[0-9a-f]{40}$/i.test(stripped)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This looks like an application key (40 characters). Logs intake needs an API key (32 characters): Organization Settings → API Keys.',
    });
  } else if (!/^[0-9a-f]{32}$/i.test(stripped)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'Datadog API keys are 32 hexadecimal characters; check that you copied the whole key.',
    });
  }
}

export const datadogForm = defineForm({
  id: 'datadog',
  label: 'Datadog Logs',
  credentialLabel: 'API Key',
  credentialHelp: 'Organization Settings → API Keys. Use an API key (32 characters), not an application key, from the same site you picked.',
  defaultHeaderName: 'DD-API-KEY',
  prefix: '',
  urlLabel: 'Logs intake URL',
  urlPlaceholder: datadogIntakeUrl('datadoghq.com'),
  urlHelp: 'Pick your Datadog site (it is in the address bar when you sign in); we fill in its logs intake URL.',
  sites: DATADOG_SITES,
  docsPath: 'docs/siem/datadog.md',
  blurb: 'Logs intake, any site',
  optionFields: [
    { key: 'tags', label: 'Tags', help: 'Comma-separated, e.g. env:prod,team:security.' },
    { key: 'service', label: 'Service', help: '', default: DATADOG_DEFAULT_SERVICE },
    { key: 'source', label: 'Source', help: 'Sent as ddsource.', default: DATADOG_DEFAULT_SOURCE },
  ],
  hints: datadogHints,
});
