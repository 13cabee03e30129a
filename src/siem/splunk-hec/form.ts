// Splunk HEC's form preset and format hints (docs/siem/splunk_hec.md).
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { defineForm, type FormatHint, type FormatHintInput } from '../form.js';
import { expectHeaderName, GUID_RE, schemePrefixHints, stripScheme, withPath } from '../hintKit.js';

/** What the encoder sends when options.source / options.sourcetype are empty; the form shows them as defaults. */
export const SPLUNK_DEFAULT_SOURCE = 'aegis';
export const SPLUNK_DEFAULT_SOURCETYPE = 'aegis:audit';

function splunkHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const path = u.pathname.replace(/\/+$/, '');
    const eventPath = '/services/collector/event';
    if (path === '') {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'Add the HEC endpoint path /services/collector/event to the URL.',
        fix: { label: 'Append /services/collector/event', value: withPath(u, eventPath) },
      });
    } else if (path === '/services/collector/raw' || path === '/services/collector/health' || path === '/services/collector/ack') {
      hints.push({
        field: 'url',
        severity: 'error',
        message: `${path} does not take JSON events; Aegis sends to /services/collector/event.`,
        fix: { label: 'Use /services/collector/event', value: withPath(u, eventPath) },
      });
    } else if (path === '/services/collector') {
      hints.push({
        field: 'url',
        severity: 'info',
        message: '/services/collector works, but /services/collector/event is the explicit event endpoint.',
        fix: { label: 'Use /services/collector/event', value: withPath(u, eventPath) },
      });
    } else if (path !== eventPath && path !== `${eventPath}/1.0`) {
      hints.push({
        field: 'url',
        severity: 'warning',
        message: `Splunk HEC receives JSON events at /services/collector/event, not ${path}.`,
        fix: { label: 'Use /services/collector/event', value: withPath(u, eventPath) },
      });
    }
    const host = u.hostname.toLowerCase();
    if (host.endsWith('.splunkcloud.com')) {
      const port = u.port === '' ? '443' : u.port;
      if (!host.startsWith('http-inputs-') && port !== '8088') {
        const stack = host.replace(/\.splunkcloud\.com$/, '').replace(/^(es-|si-)/, '');
        const fixed = new URL(withPath(u, eventPath));
        fixed.hostname = `http-inputs-${stack}.splunkcloud.com`;
        fixed.port = '';
        hints.push({
          field: 'url',
          severity: 'error',
          message:
            'Splunk Cloud receives HEC data on a separate host: add the http-inputs- prefix (port 443). Free trial stacks use https://<stack>.splunkcloud.com:8088 instead.',
          fix: { label: `Use ${fixed.hostname}`, value: fixed.toString() },
        });
      } else if (host.startsWith('http-inputs-') && port !== '443') {
        const fixed = new URL(u.toString());
        fixed.port = '';
        hints.push({
          field: 'url',
          severity: 'error',
          message: `Managed Splunk Cloud listens for HEC on port 443 on http-inputs- hosts, not ${port}; remove the port.`,
          fix: { label: 'Remove the port', value: fixed.toString() },
        });
      }
    } else if (u.port === '') {
      hints.push({
        field: 'url',
        severity: 'info',
        message: 'Splunk Enterprise listens for HEC on port 8088 by default; add :8088 unless a load balancer fronts HEC on 443.',
      });
    }
  }

  expectHeaderName(input, ['Authorization'], hints);
  const raw = (input.authHeaderValue ?? '').trim();
  if (raw === '') {
    hints.push({ field: 'auth_header_value', severity: 'error', message: 'Paste your HEC token.' });
    return;
  }
  const { had, rest } = stripScheme(raw, 'Splunk');
  // Basic authentication (the token as the password) is one HEC takes, and is sent as pasted.
  if (/^Basic\s/i.test(raw)) return;
  if (/^Bearer\s/i.test(raw)) {
    const token = raw.replace(/^\S+\s+/, '');
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'Splunk HEC expects "Splunk <token>", not Bearer; otherwise it answers 401 (code 3).',
      fix: { label: 'Use the Splunk prefix', value: `Splunk ${token}` },
    });
    return;
  }
  schemePrefixHints(
    'Splunk',
    { had, rest },
    { placeholder: '<token>', missing: 'The token must be sent as "Splunk <token>"; without the prefix Splunk answers 401 (code 3).' },
    hints,
  );
  if (rest !== '' && !GUID_RE.test(rest)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'HEC tokens look like 12345678-1234-1234-1234-1234567890ab; check that you copied the token value, not its name.',
    });
  }
}

export const splunkHecForm = defineForm({
  id: 'splunk_hec',
  label: 'Splunk HEC',
  credentialLabel: 'HEC Token',
  credentialHelp: 'Settings → Data inputs → HTTP Event Collector → your token. Paste the token value (a GUID); we add the "Splunk " prefix.',
  defaultHeaderName: 'Authorization',
  prefix: 'Splunk ',
  urlLabel: 'HEC URL',
  urlPlaceholder: 'https://splunk.example.com:8088/services/collector/event',
  urlHelp:
    'Splunk Enterprise: https://<host>:8088/services/collector/event. Splunk Cloud: https://http-inputs-<stack>.splunkcloud.com/services/collector/event.',
  docsPath: 'docs/siem/splunk_hec.md',
  blurb: 'HTTP Event Collector',
  optionFields: [
    { key: 'index', label: 'Index', help: 'Leave empty for the token’s default index.' },
    { key: 'sourcetype', label: 'Sourcetype', help: '', default: SPLUNK_DEFAULT_SOURCETYPE },
    { key: 'source', label: 'Source', help: '', default: SPLUNK_DEFAULT_SOURCE },
    { key: 'host', label: 'Host', help: 'Default: this service’s host name.' },
  ],
  hints: splunkHints,
});
