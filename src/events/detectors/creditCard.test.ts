import { describe, expect, it } from 'vitest';
import { fill, found } from '../../../test/support/detection.js';

// What separates the groups of a card as data writes it, and what separates the columns of a table of
// numbers, which must not be read as one (about 4% of rows of four 4-digit numbers have an issuer
// prefix and a valid Luhn digit).
describe('card numbers with unusual separators', () => {
  it.each(['4111  1111  1111  1111', '4111   1111   1111   1111', '4111 \t 1111 \t 1111 \t 1111', '4111.1111.1111.1111', '3782  822463  10005'])(
    'finds a card whose groups are doubled, padded or dotted: %s',
    (card) => {
      expect(found(`card: ${card} exp 12/29`)).toEqual([['CREDIT_CARD', card]]);
    },
  );

  it('does not report a masked card, whatever the mask keeps', () => {
    expect(found('card 4111 **** **** 1111')).toEqual([]);
    expect(found('card 4111-****-****-1111')).toEqual([]);
    expect(found('card 411111******1111')).toEqual([]);
    expect(found('card 4111 11** **** 1111')).toEqual([]);
    expect(found('card ************1111')).toEqual([]);
  });

  it('does not report grouped digits that fail Luhn', () => {
    expect(found('1234 5678 9012 3456')).toEqual([]);
    expect(found('1234.5678.9012.3456')).toEqual([]);
  });

  // "4096 2048 1024 3019" passes Visa's prefix and Luhn: the columns of a table, not a card. A "|"
  // separates table cells (Markdown, psql, pipe-delimited records); a card in such a record is one
  // cell ("|4111111111111111|"), never four.
  it('does not join the cells of a table row, even one that would pass Luhn', () => {
    expect(found('| 4096 | 2048 | 1024 | 3019 |')).toEqual([]);
    expect(found('4096|2048|1024|3019')).toEqual([]);
    expect(found('|4111111111111111|12|2029|')).toEqual([['CREDIT_CARD', '4111111111111111']]);
  });

  // Column alignment pads between columns, not inside a value: four or more spaces are more than a gap
  // (common.ts MAX_GAP), so memory and counter tables ("free -m", "df") are not cards.
  it('does not join numbers aligned in columns by four or more spaces', () => {
    expect(found('Mem:    4096    2048    1024    3019')).toEqual([]);
  });

  describe('linear time on adversarial 1 MiB inputs', () => {
    it.each([
      ['pipe-separated groups', fill('4111|')],
      ['masked groups', fill('4111 **** ')],
      ['wide columns', fill('4096    ')],
    ])('%s completes', (_name, text) => {
      expect(found(text)).toEqual([]);
    });
  });
});
