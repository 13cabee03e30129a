// Text a peer wrote (a SIEM's answer, a token endpoint's, a mail relay's) is shown to people: on the
// destination's card, in the delivery log, in alerts. Terminal escape sequences, other control
// characters and invisible format characters show as boxes there at best, and at worst reorder what
// a user reads: a SIEM answering "\u202Eevil txt" made the dashboard show "txt live", and could so turn
// the advice around it. Invisible ones between a secret's characters would also hide it from the
// scrubber, which reads this text. They carry nothing a person needs, so they are dropped.

// eslint-disable-next-line no-control-regex -- finding control characters is what this module is for
const CSI = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]/g;
/**
 * OSC, DCS, SOS, PM and APC strings (a terminal hyperlink, a title), dropped with their payload, up
 * to BEL or the string terminator; a run without one ends at the next escape.
 */
// eslint-disable-next-line no-control-regex -- as above
const STRINGS = /(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g;
/** C0 controls but tab, line feed and carriage return (whitespace, which callers fold), DEL, C1. */
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
/**
 * Format characters (Cf: bidi marks, embeddings, overrides and isolates, zero-width spaces and joiners,
 * the soft hyphen, the byte order mark, tag characters) and the combining grapheme joiner.
 */
const INVISIBLE = /[\p{Cf}\u034f]/gu;
// eslint-disable-next-line no-control-regex -- as above
const ANY = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\p{Cf}\u034f]/u;

/** `text` without escape sequences, control characters (but whitespace) and format characters. */
export function peerText(text: string): string {
  if (!ANY.test(text)) return text;
  return text.replace(STRINGS, '').replace(CSI, '').replace(CONTROLS, '').replace(INVISIBLE, '');
}
