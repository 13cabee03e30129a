// The registry of SIEMs: one line per folder under src/siem/ (its form.ts). The SIEM id type, the
// list of ids, the API's `siem` enum (api/schemas/destinations.ts) and the dashboard's texts are
// derived from this list; registry.ts (the encoders, Node only) is checked against it by the compiler.
//
// BROWSER-SAFE: the dashboard imports this file. It and everything it imports stay free of node:
// imports and Node-only globals (catalog.test.ts walks the imports).
//
// Every URL, header and limit in the forms comes from docs/siem/<preset>.md, which cites the SIEM's own docs.

import type { FormatHint, FormatHintInput, SiemForm } from './form.js';
import { genericHints, parseUrl } from './hintKit.js';
import { splunkHecForm } from './splunk-hec/form.js';
import { datadogForm } from './datadog/form.js';
import { sumoLogicForm } from './sumo-logic/form.js';
import { elasticForm } from './elastic/form.js';
import { newRelicForm } from './new-relic/form.js';
import { microsoftSentinelForm } from './microsoft-sentinel/form.js';
import { customWebhookForm } from './custom-webhook/form.js';

export type { FormatHint, FormatHintInput, SentinelField, SiemOptionField, SiemUrlChoice } from './form.js';

/** In the order the dashboard offers them. */
const FORMS = [splunkHecForm, datadogForm, sumoLogicForm, elasticForm, newRelicForm, microsoftSentinelForm, customWebhookForm] as const;

export type SiemId = (typeof FORMS)[number]['id'];

export const SIEM_IDS: readonly SiemId[] = FORMS.map((f) => f.id);

export type SiemPresetInfo = SiemForm<SiemId>;

export function isSiemId(value: unknown): value is SiemId {
  return typeof value === 'string' && (SIEM_IDS as readonly string[]).includes(value);
}

// Built from the list, so the record cannot miss a SIEM; the cast only restores the key type.
export const SIEM_PRESETS = Object.fromEntries(FORMS.map((f) => [f.id, f])) as Readonly<Record<SiemId, SiemPresetInfo>>;

export function getPresetInfo(siem: SiemId): SiemPresetInfo {
  return SIEM_PRESETS[siem];
}

/** The URL for a site (Datadog) or region (New Relic) picker choice; undefined when the preset has none. */
export function buildUrl(siem: SiemId, choiceId: string): string | undefined {
  const info = SIEM_PRESETS[siem];
  const choices = info.sites ?? info.regions ?? [];
  return choices.find((c) => c.id === choiceId)?.url;
}

/**
 * Other schemes a credential may be pasted with, per preset with a prefix of its own: those the SIEM
 * takes too are sent as pasted (Splunk HEC accepts Basic authentication with the token as the
 * password; Elasticsearch takes Basic and Bearer), those it never takes are replaced by the prefix
 * (the product page: the preset "applies the required prefix for you"), never sent behind it
 * ("Splunk Bearer ...", which no SIEM accepts). Their hints say which is which.
 */
const OTHER_SCHEMES: Partial<Record<SiemId, { kept: readonly string[]; replaced: readonly string[] }>> = {
  splunk_hec: { kept: ['basic'], replaced: ['bearer'] },
  elastic: { kept: ['basic', 'bearer'], replaced: [] },
};

/**
 * The header value the form stores for a pasted credential: trimmed, with the preset's prefix
 * ("Splunk ", "ApiKey ") present exactly once, in place of a scheme the SIEM never takes, or as
 * pasted with one it takes (OTHER_SCHEMES). Idempotent: applyPrefix(s, applyPrefix(s, x)) === applyPrefix(s, x).
 */
export function applyPrefix(siem: SiemId, token: string): string {
  const prefix = SIEM_PRESETS[siem].prefix;
  let value = token.trim();
  if (prefix === '') return value;
  const scheme = prefix.trim().toLowerCase();
  const other = OTHER_SCHEMES[siem];
  // Strip every leading copy of the prefix or of a replaced scheme (any case, any spacing), then add one.
  for (;;) {
    const m = /^(\S+)\s+(.*)$/s.exec(value);
    const word = m?.[1]!.toLowerCase() ?? '';
    if (m && other?.kept.includes(word)) return value;
    if (!m || (word !== scheme && !other?.replaced.includes(word))) break;
    value = m[2]!.trim();
  }
  if (value.toLowerCase() === scheme) value = '';
  return value === '' ? '' : `${prefix}${value}`;
}

/**
 * Hints for the destination form: the generic ones, then the SIEM's own. Returns [] for a correct
 * configuration. `authHeaderValue` may be the pasted credential or the value after applyPrefix.
 */
export function formatHints(siem: SiemId, input: FormatHintInput): FormatHint[] {
  const hints: FormatHint[] = [];
  const u = parseUrl(input.url);
  const form = SIEM_PRESETS[siem];
  genericHints(form, input, u, hints);
  form.hints(input, u, hints);
  return hints;
}
