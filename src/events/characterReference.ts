// Numeric character references as HTML reads them (`&#45;`, `&#x2D;`, with any number of leading
// zeros: `&#00000045;` is a hyphen too), matched at a given position (sticky). One grammar for the
// detectors' reading of a value (events/normalize.ts) and the secret scrubber's reading of a SIEM's
// answer (delivery/scrubSecrets.ts): a spelling one of them reads, the other reads too.

/** `&#x` and up to six significant hex digits; the code point's digits in group 1. */
export const HEX_REFERENCE = /&#x0*([0-9a-f]{1,6});/iy;
/** `&#` and up to seven significant decimal digits; the code point's digits in group 1. */
export const DECIMAL_REFERENCE = /&#0*(\d{1,7});/y;
