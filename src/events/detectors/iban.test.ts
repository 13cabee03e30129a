import { describe, expect, it } from 'vitest';
import { detectAndMask } from '../mask.js';
import { fill, found } from '../../../test/support/detection.js';

describe('IBAN groups with a run of spaces between them (common.ts: the gap, at most MAX_GAP)', () => {
  it.each([
    'DE89  3704  0044  0532  0130  00',
    'DE89   3704   0044   0532   0130   00',
    'DE89 3704  0044 0532   0130 00',
    'de89  3704  0044  0532  0130  00',
    'GB82  WEST  1234  5698  7654  32',
  ])('finds %j, aligned in columns as a bank statement prints it', (iban) => {
    expect(found(`IBAN ${iban} ok`)).toEqual([['IBAN', iban]]);
  });

  it('finds an IBAN wrapped onto an indented line (the line break is one more space)', () => {
    expect(found('IBAN DE89 3704 0044\n  0532 0130 00 ok')).toEqual([['IBAN', 'DE89 3704 0044\n  0532 0130 00']]);
    expect(found('IBAN DE89 3704 0044\r\n  0532 0130 00 ok')).toEqual([['IBAN', 'DE89 3704 0044\r\n  0532 0130 00']]);
    expect(detectAndMask('to: DE89 3704 0044\n 0532 0130 00\nthanks').masked).toBe('to: [IBAN]\nthanks');
  });

  it('finds a dashed or dotted IBAN with doubled separators, as a gap allows', () => {
    expect(found('to DE89--3704--0044--0532--0130--00.')).toEqual([['IBAN', 'DE89--3704--0044--0532--0130--00']]);
    expect(found('to DE89..3704..0044..0532..0130..00 ok')).toEqual([['IBAN', 'DE89..3704..0044..0532..0130..00']]);
  });

  it('takes no longer run of spaces, and no gap off a four-character boundary, for a gap', () => {
    expect(found('IBAN DE89    3704    0044    0532    0130    00 ok')).toEqual([]);
    expect(found('IBAN DE89  37  04  0044  0532  0130  00 ok')).toEqual([]);
  });

  it('still holds one kind of separator per number and no longer reference', () => {
    expect(found('to DE89--3704  0044--0532--0130--00 x')).toEqual([]);
    expect(found('to DE89  3704 - 0044  0532  0130  00 x')).toEqual([]);
    expect(found('ref DE89--3704--0044--0532--0130--00--17 x')).toEqual([]);
  });

  it('rejects a bad checksum or the wrong length however the groups are spaced', () => {
    expect(found('IBAN DE89  3704  0044  0532  0130  01 ok')).toEqual([]);
    expect(found('IBAN DE89  3704  0044  0532  0130  0 ok')).toEqual([]);
  });

  it('finds no IBAN in a table of numbers or a sum', () => {
    expect(found('DE  89  3704  0044  0532  0130  00')).toEqual([]);
    expect(found('100  200  300  4000 and 250 + 15 + 1200')).toEqual([]);
  });

  it("finds an IBAN whose spaces a form encoded as '+' (a query string, a POST body), as it finds the print form", () => {
    expect(found('GET /pay?iban=DE89+3704+0044+0532+0130+00&amount=5')).toEqual([['IBAN', 'DE89+3704+0044+0532+0130+00']]);
    expect(found('beneficiary_iban=GB82+WEST+1234+5698+7654+32')).toEqual([['IBAN', 'GB82+WEST+1234+5698+7654+32']]);
    expect(found('q=de89+3704+0044+0532+0130+00+please')).toEqual([['IBAN', 'de89+3704+0044+0532+0130+00']]);
    // One kind of separator per number, a checksum that holds.
    expect(found('DE89+3704-0044-0532-0130-00 and DE89+3704+0044+0532+0130+01')).toEqual([]);
  });

  describe('linear time on adversarial 1 MiB inputs', () => {
    it.each(['DE89  ', 'de89   0', 'DE89--', 'DE89 3704   ', 'DE89+', 'de89+++0'])('%j repeated completes', (unit) => {
      expect(found(fill(unit))).toEqual([]);
    });
  });
});
