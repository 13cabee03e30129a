// Text a peer wrote (a SIEM's answer, a token endpoint's, a mail relay's) is shown to people: on the
// destination's card, in the delivery log, in alerts. Terminal escape sequences, other control
// characters and bidirectional formatting characters show as boxes there at best, and at worst
// reorder what a user reads: a SIEM answering "\u202Eevil txt" made the dashboard show "txt live", and
// could so turn the advice around it. They carry nothing a person needs, so they are dropped.

/** ANSI escape sequences (CSI: ESC [ parameters, intermediates, a final byte), dropped whole. */
// eslint-disable-next-line no-control-regex -- finding control characters is what this module is for
const CSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;
/** C0 controls but tab, line feed and carriage return (whitespace, which callers fold), DEL, C1. */
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
/** Bidirectional formatting: the marks, embeddings, overrides and isolates, and Arabic's letter mark. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- as above
const ANY = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** `text` without escape sequences, control characters (but whitespace) and bidi formatting. */
export function peerText(text: string): string {
  if (!ANY.test(text)) return text;
  return text.replace(CSI, '').replace(CONTROLS, '').replace(BIDI, '');
}
