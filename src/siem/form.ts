// The shape of one SIEM's form preset, declared by each src/siem/<siem>/form.ts and listed by
// catalog.ts: what the dashboard shows (labels, prefix, site/region pickers, option fields) and the
// format hints it computes while the user types.
//
// BROWSER-SAFE: the dashboard bundles this file. Types only.

/** One entry of a site or region picker: choosing it fills in the URL. */
export interface SiemUrlChoice {
  id: string;
  label: string;
  url: string;
}

/** A preset option the dashboard offers as a text field (the API's PresetOptions key). */
export interface SiemOptionField {
  key: string;
  label: string;
  help: string;
  /** What the encoder sends when the field is empty: the encoder reads the same constant. */
  default?: string;
}

export type SentinelField = 'dcr_immutable_id' | 'stream_name' | 'tenant_id' | 'client_id' | 'client_secret';

export interface FormatHint {
  field: 'url' | 'auth_header_value' | 'auth_header_name' | SentinelField;
  severity: 'error' | 'warning' | 'info';
  message: string;
  fix?: { label: string; value: string };
}

export interface FormatHintInput {
  url: string;
  authHeaderName?: string | null;
  authHeaderValue?: string | null;
  /** Datadog site id chosen in the picker, when there is one. */
  site?: string | null;
  /** New Relic region id chosen in the picker, when there is one. */
  region?: string | null;
  /**
   * Microsoft Sentinel's form fields (`url` is then the data collection endpoint, or a whole Logs
   * Ingestion URL). A field left undefined is not checked (Edit leaves the secret alone).
   */
  sentinel?: Partial<Record<SentinelField, string | null>>;
}

export interface SiemForm<Id extends string = string> {
  id: Id;
  label: string;
  /** One line under the label on the dashboard's "Choose your SIEM" step. */
  blurb: string;
  /** What that SIEM calls the secret ("HEC Token", "API Key", ...). */
  credentialLabel: string;
  credentialHelp: string;
  /** Header the form fills in; null when the credential lives in the URL (Sumo Logic). */
  defaultHeaderName: string | null;
  /** Other header names the form offers in a select, default first. */
  headerNameChoices?: readonly string[];
  /** Text the form puts in front of the pasted credential ('' when none). */
  prefix: string;
  urlLabel: string;
  urlPlaceholder: string;
  urlHelp: string;
  /** Datadog: the site picker. */
  sites?: readonly SiemUrlChoice[];
  /** New Relic: the region picker. */
  regions?: readonly SiemUrlChoice[];
  /** The preset options the dashboard offers as fields (none when absent). */
  optionFields?: readonly SiemOptionField[];
  /** Path of the paste-and-go page in the repository. */
  docsPath: string;
  /**
   * Microsoft Sentinel: the credential is an OAuth2 client secret (`auth`), not a header value; the
   * token it buys is what goes in the Authorization header.
   */
  oauth2?: boolean;
  /**
   * This SIEM's own format hints, appended to the generic ones (URL shape, header name and value)
   * that catalog.formatHints computes first. `u` is the parsed URL, undefined when it does not parse.
   */
  hints(input: FormatHintInput, u: URL | undefined, hints: FormatHint[]): void;
}

/** Keeps the form's id a literal type, so catalog.ts can derive SiemId from the list of forms. */
export function defineForm<const Id extends string>(form: SiemForm<Id>): SiemForm<Id> {
  return form;
}
