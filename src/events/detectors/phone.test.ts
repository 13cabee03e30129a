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

  describe('linear time on adversarial 1 MiB inputs', () => {
    it.each([
      ['+44  20  ', []],
      ['415 - 555 - ', []],
      ['5  ', []],
      ['+1 (2)  ', []],
      ['(415)  5', []],
      // The last "+" and up to 15 ones after it, a form's spaces between them: a number as E.164 reads it.
      ['1++', ['PHONE']],
    ] as const)('%j repeated completes', (unit, types) => {
      expect(typesIn(fill(unit))).toEqual(types);
    });
  });
});

describe('phone numbers in DIN 5008 older style: one "/" after the area code', () => {
  it.each(['+49 30/1234567', '+49 221/9876543', '+43 1/58801', '+4930/1234567', '+41 44/1234567'])('finds %j whole', (phone) => {
    expect(found(`Tel.: ${phone}\nFax`)).toEqual([['PHONE', phone]]);
  });

  // A "/" after a number that was whole before it (a path, a list of extensions, a date) must not
  // cost the number its mask: it is found up to the slash, as before slashes were read.
  it.each([
    ['+49 30 1234567/8/9', '+49 30 1234567'],
    ['/api/contacts/+14155552671/2/3', '+14155552671'],
    ['+14155552671/1700000000', '+14155552671'],
    ['+49 89 123456/789012', '+49 89 123456'],
    ['+4930123456/12/2024', '+4930123456'],
    ['+49 30 1234567/2024-05-01', '+49 30 1234567'],
  ])('finds the number before the slash in %j', (text, phone) => {
    expect(found(text)).toEqual([['PHONE', phone]]);
  });

  it.each([
    ['tel +44 20 7946  0958/1700000000', '+44 20 7946  0958'],
    ['Tel.: +49 89 1234  5678/2024-05-01', '+49 89 1234  5678'],
  ])('keeps the whole of a padded number before a slash and a date in %j', (text, phone) => {
    expect(found(text)).toEqual([['PHONE', phone]]);
  });

  it.each([
    '+49/30/1234567',
    '+1/2/2024',
    '+2024/11/30',
    'x +12/2024 y',
    '+49 30/123/4567',
    '+43 1/5880',
    'HP +1500/3000',
    'mem +20480/40960 KB',
    'https://example.com/+1234/5678/',
    '+10.0.0/10.0.1',
  ])('finds no phone number in %j', (text) => {
    expect(typesIn(text)).not.toContain('PHONE');
  });

  it('reads 1 MiB of slashes between digits after a "+" in linear time, finding no phone', () => {
    expect(typesIn(fill('+1/2/'))).not.toContain('PHONE');
  });
});
