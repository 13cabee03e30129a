import { isDeepStrictEqual } from 'node:util';
import { invalid } from '../errors.js';
import { checkDestinationUrl } from '../delivery/outbound/url.js';
import { holdsUrlMask, URL_MASK_MESSAGE } from '../delivery/urlSecrets.js';
import type { SiemId } from '../siem/catalog.js';
import { normalizeSentinelUrl } from '../siem/microsoft-sentinel/urls.js';
import { isSendableHeaderValue } from '../siem/types.js';
import type { CreateDestinationBody } from '../api/schemas/destinations.js';

// The rules a create body (createBody.ts) and a PATCH body (patchBody.ts) both check.

export function checkUrl(raw: string, allowPrivate: boolean, siem: SiemId): string {
  if (holdsUrlMask(raw)) throw invalid('url', URL_MASK_MESSAGE);
  const res = checkDestinationUrl(raw, { allowPrivate });
  if (!res.ok) throw invalid('url', res.message);
  if (siem === 'microsoft_sentinel') {
    const sentinel = normalizeSentinelUrl(res.url.toString());
    if (!sentinel.ok) throw invalid('url', sentinel.message);
    return sentinel.url;
  }
  return res.url.toString();
}

/**
 * With OAuth2, the Authorization header carries the access token: a configured header of that name
 * would fight it, and Microsoft Sentinel takes no other credential.
 */
export function checkHeaderBesideAuth(siem: SiemId, headerName: string | null, hasValue: boolean, hasAuth: boolean): void {
  if (siem === 'microsoft_sentinel' && hasValue) {
    throw invalid('auth_header_value', "Microsoft Sentinel authenticates with auth (an Entra ID app's client credentials), not a header value");
  }
  if (hasAuth && hasValue && headerName?.toLowerCase() === 'authorization') {
    throw invalid('auth_header_name', 'cannot be Authorization with auth set: the OAuth2 access token is sent in the Authorization header');
  }
}

/** The options Sumo Logic sends as X-Sumo-* header values (sumo-logic/encoder.ts). */
const SUMO_HEADER_OPTIONS = ['category', 'sourceName', 'sourceHost', 'fields'] as const;

type PresetOptionKey = keyof NonNullable<CreateDestinationBody['options']>;

/** The delivery limits, which every preset takes. */
const LIMIT_OPTIONS: readonly PresetOptionKey[] = ['max_events_per_second', 'max_concurrent_requests'];

/**
 * The options each preset's encoder reads (src/siem/<siem>/encoder.ts), besides the delivery limits.
 * The schema takes every preset's options on any destination: a hostile tenant's review set Splunk's
 * index and Datadog's service on a custom webhook, stored and shown as set, and read by nothing.
 */
export const PRESET_OPTIONS: Readonly<Record<SiemId, readonly PresetOptionKey[]>> = {
  splunk_hec: ['index', 'source', 'sourcetype', 'host', 'indexer_ack'],
  elastic: ['index'],
  sumo_logic: ['category', 'sourceName', 'sourceHost', 'fields'],
  datadog: ['tags', 'service', 'source'],
  new_relic: ['service'],
  custom: [],
  microsoft_sentinel: [],
};

/**
 * Options the schema accepts for every preset but only some presets understand. `stored`: a PATCH's
 * destination's options as they are. The dashboard sends every stored option back with each save, so
 * one stored before this check, unchanged, is kept as it is rather than refusing a rename (as an old
 * filter is, patchBody.ts); a new or changed one is checked.
 */
export function checkPresetOptions(siem: SiemId, options: CreateDestinationBody['options'], stored?: Readonly<Record<string, unknown>> | null): void {
  // Silently ignoring it elsewhere would let a user believe their events are acknowledged.
  if (options?.indexer_ack !== undefined && siem !== 'splunk_hec')
    throw invalid('options.indexer_ack', 'is only for the splunk_hec preset (Splunk HEC indexer acknowledgement)');
  const takes = [...PRESET_OPTIONS[siem], ...LIMIT_OPTIONS];
  const kept = (key: string) => stored != null && Object.hasOwn(stored, key) && isDeepStrictEqual(stored[key], (options as Record<string, unknown>)[key]);
  const stray = Object.keys(options ?? {}).find((key) => !(takes as readonly string[]).includes(key) && !kept(key));
  if (stray !== undefined) {
    throw invalid(`options.${stray}`, `is not an option of the ${siem} preset, which would ignore it; it takes ${takes.join(', ')}`);
  }
  // Sumo Logic sends these as X-Sumo-* header values; a value HTTP cannot carry would fail every
  // delivery (or be dropped by the encoder), so refuse it here, where the user can fix it.
  for (const key of SUMO_HEADER_OPTIONS) {
    const value = options?.[key];
    if (value !== undefined && !isSendableHeaderValue(value))
      throw invalid(`options.${key}`, 'contains a line break, control or non-ASCII character, which an HTTP header value cannot carry');
  }
}
