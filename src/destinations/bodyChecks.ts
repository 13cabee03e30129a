import { invalid, pointerSegment } from '../errors.js';
import { checkDestinationUrl } from '../delivery/outbound/url.js';
import { holdsUrlMask, URL_MASK_MESSAGE } from '../delivery/urlSecrets.js';
import { SIEM_IDS, SIEM_PRESETS, type SiemId } from '../siem/catalog.js';
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

type PresetOptionKey = keyof NonNullable<CreateDestinationBody['options']>;

/** The delivery limits, which every preset takes. */
const LIMIT_OPTIONS: readonly PresetOptionKey[] = ['max_events_per_second', 'max_concurrent_requests'];

/** Options an encoder reads that its dashboard form does not offer as a field. */
const NOT_IN_FORM: Partial<Record<SiemId, readonly PresetOptionKey[]>> = { splunk_hec: ['indexer_ack'], new_relic: ['service'] };

/**
 * The options each preset's encoder reads (src/siem/<siem>/encoder.ts), besides the delivery limits:
 * its form's option fields (the dashboard's), and NOT_IN_FORM. The schema takes every preset's options
 * on any destination: a hostile tenant's review set Splunk's index and Datadog's service on a custom
 * webhook, stored and shown as set, and read by nothing.
 */
export const PRESET_OPTIONS = Object.fromEntries(
  SIEM_IDS.map((id) => [id, [...(SIEM_PRESETS[id].optionFields ?? []).map((f) => f.key as PresetOptionKey), ...(NOT_IN_FORM[id] ?? [])]] as const),
) as Readonly<Record<SiemId, readonly PresetOptionKey[]>>;

/**
 * Options the schema accepts for every preset but only some presets understand. `stored`: a PATCH's
 * destination's options as they are. The dashboard sends every stored option back with each save, so
 * one stored before this check, unchanged, is kept as it is rather than refusing a rename (as an old
 * filter is, patchBody.ts); a new or changed one is checked. (Splunk's indexer_ack elsewhere is one
 * such option: silently ignored, it would let a user believe their events are acknowledged.)
 */
export function checkPresetOptions(siem: SiemId, options: CreateDestinationBody['options'], stored?: Readonly<Record<string, unknown>> | null): void {
  const given = (options ?? {}) as Readonly<Record<string, unknown>>;
  const takes = [...PRESET_OPTIONS[siem], ...LIMIT_OPTIONS];
  // Option values are strings, numbers and booleans: compared as they are.
  const kept = (key: string) => stored != null && Object.hasOwn(stored, key) && stored[key] === given[key];
  const stray = Object.keys(given).find((key) => !(takes as readonly string[]).includes(key) && !kept(key));
  if (stray !== undefined) {
    throw invalid(
      `options.${stray}`,
      `is not an option of the ${siem} preset, which would ignore it; it takes ${takes.join(', ')}`,
      `/options${pointerSegment(stray)}`,
    );
  }
  // Sumo Logic sends each of its options as an X-Sumo-* header value (sumo-logic/encoder.ts); a value
  // HTTP cannot carry would fail every delivery (or be dropped by the encoder), so refuse it here,
  // where the user can fix it.
  for (const key of PRESET_OPTIONS.sumo_logic) {
    const value = options?.[key];
    if (typeof value === 'string' && !isSendableHeaderValue(value))
      throw invalid(`options.${key}`, 'contains a line break, control or non-ASCII character, which an HTTP header value cannot carry');
  }
}
