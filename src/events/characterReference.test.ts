import { describe, expect, it } from 'vitest';
import { DECIMAL_REFERENCE, HEX_REFERENCE, NAMED_REFERENCE, REFERENCE_AFTER_AMP, namedReference } from './characterReference.js';

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

describe('numeric references (the grammar the detectors and the secret scrubber share)', () => {
  const read = (re: RegExp, text: string) => {
    re.lastIndex = 0;
    const m = re.exec(text);
    return m === null ? null : [m[0], m[1]];
  };

  it("reads one without its ';' as browsers do, every digit after it belonging to it", () => {
    expect(read(DECIMAL_REFERENCE, '&#64example.com')).toEqual(['&#64', '64']);
    expect(read(DECIMAL_REFERENCE, '&#64;x')).toEqual(['&#64;', '64']);
    // The HTML tokenizer consumes every digit: "&#4545" is U+11C1, "&#x40e" U+040E.
    expect(read(DECIMAL_REFERENCE, '&#4545&#456789')).toEqual(['&#4545', '4545']);
    expect(read(HEX_REFERENCE, '&#x40example.com')).toEqual(['&#x40e', '40e']);
    expect(read(HEX_REFERENCE, '&#x40mail')).toEqual(['&#x40', '40']);
    expect(read(HEX_REFERENCE, '&#X000002d;')).toEqual(['&#X000002d;', '2d']);
  });

  it('reads none with more significant digits than a code point has, nor one without digits', () => {
    for (const text of ['&#12345678', '&#12345678;', '&#;', '&#', '&#a']) expect(read(DECIMAL_REFERENCE, text), text).toBeNull();
    for (const text of ['&#x1234567', '&#x1234567;', '&#x;', '&#xg']) expect(read(HEX_REFERENCE, text), text).toBeNull();
    expect(read(DECIMAL_REFERENCE, `&#${'0'.repeat(100)}64`)).toEqual([`&#${'0'.repeat(100)}64`, '64']);
  });

  it('reads a reference after an escaped ampersand (HTML escaped twice), one layer deep', () => {
    const after = (text: string) => {
      REFERENCE_AFTER_AMP.lastIndex = 0;
      const m = REFERENCE_AFTER_AMP.exec(text);
      return m === null ? null : [m[0], m[1], m[2], m[3]];
    };
    expect(after('&amp;#64;x')).toEqual(['&amp;#64;', undefined, '64', undefined]);
    expect(after('&amp;#x40;x')).toEqual(['&amp;#x40;', '40', undefined, undefined]);
    expect(after('&AMP;commat;x')).toEqual(['&AMP;commat;', undefined, undefined, 'commat']);
    expect(after('&#38;nbsp;1')).toEqual(['&#38;nbsp;', undefined, undefined, 'nbsp']);
    expect(after('&#x26;#45;')).toEqual(['&#x26;#45;', undefined, '45', undefined]);
    // The second layer's ampersand is all it reads of "&amp;amp;#64;".
    expect(after('&amp;amp;#64;')).toEqual(['&amp;amp;', undefined, undefined, 'amp']);
    for (const text of ['&amp;', '&amp;x', '&amp;#;', '&#380;nbsp;', '&amp ;#64;']) expect(after(text), text).toBeNull();
  });
});
