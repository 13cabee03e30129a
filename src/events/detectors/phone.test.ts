import { describe, expect, it } from 'vitest';
import { detectAndMask } from '../mask.js';
import { fill, found, typesIn } from '../../../test/support/detection.js';

describe('phone numbers with doubled or padded separators (common.ts: the gap, at most MAX_GAP)', () => {
  it.each(['+44  20  7946  0958', '+44   20   7946   0958', '+1 - 415 - 555 - 2671', '+1  (415)  555-2671', '+44++20++7946++0958'])(
    'finds the international number %j',
    (phone) => {
      expect(found(`call ${phone} now`)).toEqual([['PHONE', phone]]);
    },
  );

  it.each(['415 - 555 - 2671', '415  555  2671', '415--555--2671', '415 . 555 . 2671', '1 - 415 - 555 - 2671', '(415)  555  2671', '415++555++2671'])(
    'finds the NANP number %j',
    (phone) => {
      expect(found(`call ${phone} now`)).toEqual([['PHONE', phone]]);
    },
  );

  it('finds a number wrapped onto an indented line (the line break is one more space)', () => {
    expect(found('tel +44 20 7946\n  0958 ok')).toEqual([['PHONE', '+44 20 7946\n  0958']]);
    expect(detectAndMask('tel 415 555\n  2671\nbye').masked).toBe('tel [PHONE]\nbye');
  });

  it('takes no longer run and no "+" mixed with another separator for a gap: sums stay sums', () => {
    expect(found('call 415    555    2671 now')).toEqual([]);
    expect(found('call +44    20    7946    0958 now')).toEqual([]);
    expect(found('total = 250 + 15 + 1200 and 415 + 555 + 2671')).toEqual([]);
    expect(found('x = +415 + 555 + 2671')).toEqual([]);
  });

  it('finds no phone number in a table column of numbers, a range, a date or a version', () => {
    expect(found('100  200  300  4000')).toEqual([]);
    expect(found('2000  3000  4000  5000  6000')).toEqual([]);
    expect(found('range 415 - 555 and 415 - 555 - 26')).toEqual([]);
    expect(found('on 2026 - 05 - 15 at 10 : 33')).toEqual([]);
    expect(found('version 1.2.3  4.15.555')).toEqual([]);
  });

  it('drops a padded number glued to more digits across a gap like its own, as a row of columns', () => {
    expect(found('12  415  555  2671')).toEqual([]);
    expect(found('415  555  2671  1234')).toEqual([]);
    expect(found('12 - 415 - 555 - 2671 and 415 - 555 - 2671 - 1234')).toEqual([]);
  });

  it('still finds a number written with single separators in a column next to numbers', () => {
    // Columns are padded; a number with single separators is a cell of its own.
    expect(found('Jane  415-555-2671  42  2026')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('10:33:01  415 555 2671')).toEqual([['PHONE', '415 555 2671']]);
    expect(found('call 415-555-2671 - 3 attempts')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('+44 20 7946 0958  42  2026  7')).toEqual([['PHONE', '+44 20 7946 0958']]);
  });

  it('ends a number at a line break: the digit that starts the next line is not glued to it', () => {
    // The normalizer reads a line break with no indentation as one space, the separator a spaced
    // number uses too: a space after a number glues it to nothing, as a space before it does not.
    expect(found('Call 415-555-2671\n2 attempts failed')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('Call 415-555-2671\r\n2 attempts failed')).toEqual([['PHONE', '415-555-2671']]);
    expect(found('from 415 555 2671\n2024-05-01T10:33:01Z next')).toEqual([['PHONE', '415 555 2671']]);
    expect(detectAndMask('Call (415) 555-2671\r\n42 retries').masked).toBe('Call [PHONE]\r\n42 retries');
    // An international number: +1 is NANP's country code, whose numbers have exactly 11 digits.
    expect(detectAndMask('Call +1 415 555 2671\n2 attempts failed').masked).toBe('Call [PHONE]\n2 attempts failed');
    // A number read on into the next line's timestamp is too long: the number is what stood before.
    expect(found('tel +49 30 901820\n2024-05-01 INFO')).toEqual([['PHONE', '+49 30 901820']]);
    expect(found('tel +44 20 7946 0958\r\n2024-05-01 INFO')).toEqual([['PHONE', '+44 20 7946 0958']]);
    // A dash or dot after a number still glues it to more digits, and a padded gap a padded number.
    expect(found('id 415-555-2671-1234 and 415.555.2671.12')).toEqual([]);
  });

  it('masks an international number, not the next column after a padded gap', () => {
    expect(found('+1 415 555 2671  123')).toEqual([['PHONE', '+1 415 555 2671']]);
    expect(found('+14155552671   7')).toEqual([['PHONE', '+14155552671']]);
    expect(detectAndMask('+44 20 7946 0958  42  ok').masked).toBe('[PHONE]  42  ok');
    // A number wrapped onto an indented line is still one number (the test above), and an aligned one.
    expect(found('tel +44 20 7946\n    0958 ok')).toEqual([['PHONE', '+44 20 7946\n    0958']]);
    expect(found('tel +49 30\n  901820 ok')).toEqual([['PHONE', '+49 30\n  901820']]);
  });

  describe('German and Austrian numbers with a slash after the area code (DIN 5008, older style)', () => {
    it.each([
      '+49 30/1234567',
      '+49 (0)30/12345678',
      '+49 221/9876543',
      '+43 1/58801',
      '+43 1/58801-0',
      '030/1234567',
      '0221/9876543',
      '089/12345678',
      '04651/12345',
      '0170/1234567',
      '0221/98765-43',
    ])('finds %j', (phone) => {
      expect(found(`Tel.: ${phone} (Zentrale)`)).toEqual([['PHONE', phone]]);
      expect(found(`Tel.:${phone}\nFax`)).toEqual([['PHONE', phone]]);
    });

    it('finds no date, fraction, path or short reference', () => {
      expect(found('valid 12/2024, 01/2025 and 05/11/2024; 1/2 cup; on 2024/11/30')).toEqual([]);
      expect(found('GET /api/v1/2345678 and /files/030/1234567 and /030/1234567/edit')).toEqual([]);
      // Fewer than 9 digits with the 0 (a national number of 8): a page or file reference, not a phone.
      expect(found('see page 030/1234 and Az. 0221/1234')).toEqual([]);
      // A subscriber number never starts with 0; nor an area code with 00 (an international prefix).
      expect(found('ref 030/0123456 and 0049/301234567')).toEqual([]);
      // Glued to more: a second slash, a file name, a decimal.
      expect(found('030/1234567/89 and 0221/9876543.pdf and 030/1234567,5')).toEqual([]);
      // An international number takes one slash, after at least a country code; +43 1/5880 has 7 digits.
      expect(found('x +49/30/1234567 y +49 30/123/4567 z +43 1/5880')).toEqual([]);
    });
  });

  describe('linear time on adversarial 1 MiB inputs', () => {
    it.each([
      ['+44  20  ', []],
      ['415 - 555 - ', []],
      ['5  ', []],
      ['+1 (2)  ', []],
      ['(415)  5', []],
      // The last "+" and up to 15 ones after it, a form's spaces between them: a number as E.164 reads it.
      ['1++', ['PHONE']],
      ['030/1234567/', []],
      // A national slash number glued to the next: "0221/9876543-0221/..." is a path, none found.
      ['0221/9876543-', []],
      ['+49 30/1/', []],
    ] as const)('%j repeated completes', (unit, types) => {
      expect(typesIn(fill(unit))).toEqual(types);
    });
  });
});
