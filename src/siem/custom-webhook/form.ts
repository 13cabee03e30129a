// The custom HTTPS webhook's form preset and format hints (docs/siem/custom.md).
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { defineForm, type FormatHint, type FormatHintInput } from '../form.js';

function customHints(input: FormatHintInput, _u: URL | undefined, hints: FormatHint[]): void {
  const name = input.authHeaderName?.trim() ?? '';
  const value = (input.authHeaderValue ?? '').trim();
  if (name !== '' && value === '') {
    hints.push({
      field: 'auth_header_value',
      severity: 'info',
      message: `No ${name} value set: anyone who learns the URL can post to it. Add the credential your receiver expects.`,
    });
  }
  if (name.toLowerCase() === 'authorization' && value !== '' && !/^\S+\s+\S/.test(value)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'Authorization values usually start with a scheme, for example "Bearer <token>"; check what your receiver expects.',
      fix: { label: 'Add Bearer', value: `Bearer ${value}` },
    });
  }
}

export const customWebhookForm = defineForm({
  id: 'custom',
  label: 'Custom HTTPS webhook',
  credentialLabel: 'Auth header value',
  credentialHelp: 'The full header value your receiver expects, for example "Bearer <token>".',
  defaultHeaderName: 'Authorization',
  prefix: '',
  urlLabel: 'Webhook URL',
  urlPlaceholder: 'https://your-siem.example/ingest',
  urlHelp: 'Each audit event is POSTed on its own as JSON, with its event.id in the Idempotency-Key header.',
  docsPath: 'docs/siem/custom.md',
  blurb: 'Any HTTPS endpoint, JSON',
  hints: customHints,
});
