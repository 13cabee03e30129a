// Elastic's form preset and format hints (docs/siem/elastic.md).
// BROWSER-SAFE: the dashboard bundles this file (no node: imports, no Node-only globals).

import { defineForm, type FormatHint, type FormatHintInput } from '../form.js';
import { decodeBase64, encodeBase64, expectHeaderName, schemePrefixHints, stripScheme, withPath } from '../hintKit.js';

/**
 * Elastic's default target: the data stream named after the event's own dataset
 * (`logs-<event.dataset>-default`), so the stream's `data_stream.dataset` and the document's
 * `event.dataset` agree, as ECS asks. A data stream name allows only lowercase letters, digits, `.`
 * and `_` in the dataset part; anything else (no dataset the service produces today) becomes `_`.
 */
export function elasticDefaultIndex(dataset: string): string {
  return `logs-${dataset.toLowerCase().replace(/[^a-z0-9._]/g, '_')}-default`;
}

/** How the form shows the default of options.index (elasticDefaultIndex of each event's dataset). */
export const ELASTIC_DEFAULT_INDEX_TEXT = 'logs-<event.dataset>-default';

function elasticHints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void {
  if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
    const host = u.hostname.toLowerCase();
    const path = u.pathname.replace(/\/+$/, '');
    if (host.includes('.kb.') || u.port === '5601' || path.startsWith('/app/')) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'This looks like the Kibana address. Use the Elasticsearch endpoint (Deployment → Copy endpoint for Elasticsearch) followed by /_bulk.',
      });
    } else if (!/(^|\/)_bulk$/.test(path)) {
      hints.push({
        field: 'url',
        severity: 'error',
        message: 'Add /_bulk to the Elasticsearch endpoint: Aegis writes events in batches through the bulk API.',
        fix: { label: 'Append /_bulk', value: withPath(u, `${path}/_bulk`) },
      });
    }
  }

  expectHeaderName(input, ['Authorization'], hints);
  const raw = (input.authHeaderValue ?? '').trim();
  if (raw === '') {
    hints.push({ field: 'auth_header_value', severity: 'error', message: 'Paste the encoded API key.' });
    return;
  }
  if (/^(Bearer|Basic)\s/i.test(raw)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'warning',
      message: 'Aegis expects an Elasticsearch API key sent as "ApiKey <encoded>"; create one in Kibana → Stack Management → API keys.',
    });
    return;
  }
  const { had, rest } = stripScheme(raw, 'ApiKey');
  const decoded = decodeBase64(rest);

  if (rest.includes(':') && decoded === undefined) {
    // Raw "id:api_key" pasted.
    const fixValue = `ApiKey ${encodeBase64(rest)}`;
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This is the raw id:api_key pair; Elasticsearch expects it base64-encoded (the "Encoded" value Kibana shows).',
      fix: { label: 'Encode it', value: fixValue },
    });
    return;
  }
  if (decoded === undefined) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'This is not an encoded API key. Copy the "Encoded" value shown when you create the key (base64 of id:api_key).',
    });
    return;
  }
  const inner = stripScheme(decoded, 'ApiKey');
  if (inner.had > 0) {
    // base64 of "ApiKey <something>": the prefix was encoded too.
    const innerDecoded = decodeBase64(inner.rest);
    const encoded = innerDecoded !== undefined && innerDecoded.includes(':') ? inner.rest : encodeBase64(inner.rest);
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message: 'The word ApiKey was base64-encoded together with the key; only id:api_key should be encoded.',
      fix: { label: 'Re-encode without the prefix', value: `ApiKey ${encoded}` },
    });
    return;
  }
  if (!/^[^:\s]+:[^:\s]+$/.test(decoded)) {
    hints.push({
      field: 'auth_header_value',
      severity: 'error',
      message:
        'This value does not decode to id:api_key; it may be the api_key alone. Copy the "Encoded" value instead, or paste id:api_key and let us encode it.',
    });
    return;
  }
  schemePrefixHints(
    'ApiKey',
    { had, rest },
    { placeholder: '<encoded>', missing: 'Elasticsearch expects "ApiKey <encoded>"; without the prefix it answers 401.' },
    hints,
  );
}

export const elasticForm = defineForm({
  id: 'elastic',
  label: 'Elastic',
  credentialLabel: 'API key (encoded)',
  credentialHelp: 'Kibana → Stack Management → API keys → Create API key, then copy the "Encoded" value. We add the "ApiKey " prefix.',
  defaultHeaderName: 'Authorization',
  prefix: 'ApiKey ',
  urlLabel: 'Elasticsearch endpoint',
  urlPlaceholder: 'https://my-deployment.es.us-east-1.aws.elastic-cloud.com/_bulk',
  urlHelp: `The Elasticsearch endpoint (not Kibana), followed by /_bulk. Events go to the data stream of their dataset (${elasticDefaultIndex('aegis.preflight')} for preflight decisions) unless you set another index.`,
  docsPath: 'docs/siem/elastic.md',
  blurb: 'Elasticsearch bulk API',
  optionFields: [{ key: 'index', label: 'Index or data stream', help: '', default: ELASTIC_DEFAULT_INDEX_TEXT }],
  hints: elasticHints,
});
