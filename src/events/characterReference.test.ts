import { describe, expect, it } from 'vitest';
import { NAMED_REFERENCE, namedReference } from './characterReference.js';

describe('named character references (one table for the detectors and the secret scrubber)', () => {
  it('reads every name the detectors read before the table was shared, as the same code point', () => {
    const before: Record<string, number> = {
      commat: 0x40,
      period: 0x2e,
      hyphen: 0x2d,
      dash: 0x2d,
      nbsp: 0xa0,
      lowbar: 0x5f,
      sol: 0x2f,
      colon: 0x3a,
      plus: 0x2b,
      apos: 0x27,
      ndash: 0x2013,
      mdash: 0x2014,
      minus: 0x2212,
      shy: 0xad,
      thinsp: 0x2009,
      ensp: 0x2002,
      emsp: 0x2003,
      numsp: 0x2007,
      puncsp: 0x2008,
      hairsp: 0x200a,
      zwnj: 0x200c,
      zwj: 0x200d,
      lrm: 0x200e,
      rlm: 0x200f,
      middot: 0xb7,
      bull: 0x2022,
      nonbreakingspace: 0xa0,
      zerowidthspace: 0x200b,
    };
    for (const [name, cp] of Object.entries(before)) {
      expect(namedReference(name), name).toBe(cp);
      expect(namedReference(name.toUpperCase()), name).toBe(cp);
      NAMED_REFERENCE.lastIndex = 0;
      expect(NAMED_REFERENCE.exec(`&${name};`)?.[1], name).toBe(name);
    }
  });

  it("knows no name outside the table, Object.prototype's included", () => {
    for (const name of ['constructor', 'tostring', '__proto__', 'hasownproperty', 'quott', 'eacute']) expect(namedReference(name), name).toBeUndefined();
  });
});
