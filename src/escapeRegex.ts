/** `s` as a regular expression source matching it literally (for a pattern built from data). */
export const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
