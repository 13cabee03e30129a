// Shared by the format-hint tests of every SIEM folder (<siem>/form.test.ts, catalog.test.ts): a
// correct form input per SIEM, and a finder that fails with every hint listed. Not imported by
// production code.
import type { FormatHint, FormatHintInput, SiemId } from './catalog.js';

export const GUID = '12345678-9abc-4def-8123-456789abcdef';
export const ES_ENCODED = btoa('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw');
export const DD_API_KEY = '0123456789abcdef0123456789abcdef';
export const NR_LICENSE = `${'a1b2c3d4e5'.repeat(3)}abcdefNRAL`;

export const correct: Record<SiemId, FormatHintInput> = {
  splunk_hec: { url: 'https://splunk.example.com:8088/services/collector/event', authHeaderName: 'Authorization', authHeaderValue: `Splunk ${GUID}` },
  datadog: { url: 'https://http-intake.logs.datadoghq.eu/api/v2/logs', authHeaderName: 'DD-API-KEY', authHeaderValue: DD_API_KEY, site: 'datadoghq.eu' },
  sumo_logic: { url: 'https://endpoint4.collection.us2.sumologic.com/receiver/v1/http/ZaVnC4dhaV3_abc==', authHeaderName: null, authHeaderValue: null },
  elastic: { url: 'https://my-deployment.es.us-east-1.aws.elastic-cloud.com/_bulk', authHeaderName: 'Authorization', authHeaderValue: `ApiKey ${ES_ENCODED}` },
  new_relic: { url: 'https://log-api.newrelic.com/log/v1', authHeaderName: 'Api-Key', authHeaderValue: NR_LICENSE, region: 'us' },
  microsoft_sentinel: {
    url: 'https://aegis-dce-a1b2.eastus-1.ingest.monitor.azure.com/',
    sentinel: {
      dcr_immutable_id: 'dcr-0123456789abcdef0123456789abcdef',
      stream_name: 'Custom-AegisAudit_CL',
      tenant_id: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      client_id: GUID,
      client_secret: 'Xy8Q~abcdefghijklmnopqrstuvwxyz0123456789',
    },
  },
  custom: { url: 'https://siem.example.com/ingest', authHeaderName: 'Authorization', authHeaderValue: 'Bearer abc123' },
};

export function find(hints: FormatHint[], field: FormatHint['field'], re: RegExp): FormatHint {
  const hit = hints.find((h) => h.field === field && re.test(h.message));
  if (!hit) throw new Error(`no ${field} hint matching ${String(re)} in ${JSON.stringify(hints, null, 2)}`);
  return hit;
}
