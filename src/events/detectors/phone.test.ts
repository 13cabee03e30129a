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

// The international call prefix dialled instead of "+": "00" in most of the world (ITU's
// recommendation), "011" from North America. Read like "+CC ..." when a valid country code stands as
// its own group right after it; "001" is a NANP number (NANP_RE).
describe('international numbers written with the call prefix 00 or 011 instead of "+"', () => {
  it.each([
    '0049 30 12345678',
    '0044 20 7946 0958',
    '011 44 20 7946 0958',
    '01144 20 7946 0958',
    '0033 1 23 45 67 89',
    '007 495 123-45-67',
    '0049-30-12345678',
    '0049.30.12345678',
    '0044 (0)20 7946 0958',
    '0049 30/1234567',
    '00353 1 234 5678',
    '0044+20+7946+0958',
  ])('finds %j', (phone) => {
    expect(found(`Tel.: ${phone} (office)`)).toEqual([['PHONE', phone]]);
  });

  it('finds them as the local part of an actor_id', async () => {
    const { guardAgentRecord } = await import('../privacyGuard.js');
    for (const actor of ['0049.30.12345678@example.com', '0044-20-7946-0958@example.com', '011.44.20.7946.0958@example.com', '0049_30_12345678@example.com']) {
      expect(guardAgentRecord({ actor_id: actor }), actor).toEqual([{ path: '/actor_id', message: expect.stringContaining('PHONE') }]);
    }
    expect(guardAgentRecord({ summary: 'called 0049 30 12345678' })).toEqual([{ path: '/summary', message: expect.stringContaining('PHONE') }]);
  });

  it('still reads "001" as a NANP number, once', () => {
    expect(found('call 001 415 555 2671 now')).toEqual([['PHONE', '001 415 555 2671']]);
  });

  it.each([
    'code 0049 only',
    'at 00:44 and 00:44:12',
    'order 0044 2079 4609 58',
    'ref 0049 3012 3456 7890',
    'ids 000123 and 0000049 30 12345678',
    'compact 00493012345678 and 011442079460958',
    'no country 0099 30 12345678 and 0012 3456 7890 and 0011 44 20 7946 0958',
    'glued x0049 30 12345678 and 10049 30 12345678 and 12-0049-30-12345678',
    'short 0049 30 123 and long 0049 30 1234 5678 9012 3456',
    'hex 00 44 20 79 46 09 58 ff',
    'time 00 49 30 12',
    // A zero-padded counter before a date or a log line's time stamp.
    '0044 2024-05-01 12:00:00 INFO started',
    'Run 0049 2024-05-01 12:00:00 ok',
    '#0044 2024-05-01 12:00:00 job finished',
    'record 0086 2023 11 05',
  ])('finds no phone number in %j', (text) => {
    expect(typesIn(text)).not.toContain('PHONE');
  });

  // Each prefix reads at most 16 digits on; the last few units of a fill are a number of 8 to 15.
  it.each([
    ['0049 ', []],
    ['00', []],
    ['0049-', []],
    ['011 44 ', ['PHONE']],
    ['0044 20 ', ['PHONE']],
  ] as const)('reads 1 MiB of %j repeated in linear time', (unit, types) => {
    expect([...new Set(typesIn(fill(unit)))]).toEqual(types);
  });
});
