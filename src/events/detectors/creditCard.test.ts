import { describe, expect, it } from 'vitest';
import { fill, found } from '../../../test/support/detection.js';

/** A product of sizes that passes a Visa prefix and Luhn: every group a multiple of 8. */
const ROUND_PRODUCT = 'buffers 4096*2048*1024*1088 bytes';

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

  // "4096 2048 1024 3019" passes Visa's prefix and Luhn: the columns of a table, not a card. A padded
  // "|" separates table cells (Markdown: "| a | b |"); a card in such a record is one cell
  // ("|4111111111111111|"), never four.
  it('does not join the padded cells of a table row, even one that would pass Luhn', () => {
    expect(found('| 4096 | 2048 | 1024 | 3019 |')).toEqual([]);
    expect(found('|4111111111111111|12|2029|')).toEqual([['CREDIT_CARD', '4111111111111111']]);
  });

  // A lone "|", ";" or "*" between the groups is a separator, as a lone comma is (common.ts: the
  // lone delimiters): "4111|1111|1111|1111" carries the card as plainly as "4111-1111-1111-1111".
  // Like the comma, the price is an unpadded row of exactly four 4-digit numbers that passes Luhn
  // ("4096|2048|1024|3019", as "4096,2048,1024,3019" already is): masked rather than leaked.
  it.each(['4111|1111|1111|1111', '4111;1111;1111;1111', '3782|822463|10005', '4111|1111;1111|1111'])('finds a card grouped by lone delimiters: %s', (card) => {
    expect(found(`card: ${card} exp 12/29`)).toEqual([['CREDIT_CARD', card]]);
  });

  // An asterisk, a number sign or a tilde alone between the groups too: "card 4111*1111*1111*1111"
  // was returned unmasked by preflight. A product of round numbers (every group a multiple of 8 or
  // of 10: sizes, dimensions) is no card, whatever its digits.
  it.each([
    '4111*1111*1111*1111',
    '4111#1111#1111#1111',
    '4111~1111~1111~1111',
    '3782*822463*10005',
    '5555#5555~5555*4444',
    '\uff14\uff11\uff11\uff11\uff0a\uff11\uff11\uff11\uff11\uff0a\uff11\uff11\uff11\uff11\uff0a\uff11\uff11\uff11\uff11',
  ])('finds a card grouped by lone asterisks, number signs or tildes: %s', (card) => {
    expect(found(`card ${card} exp 12/29`)).toEqual([['CREDIT_CARD', card]]);
    expect(found(card)).toEqual([['CREDIT_CARD', card]]);
  });

  it('finds no card in masked cards, ticket numbers or products of round numbers', () => {
    for (const text of [
      '4111 **** **** 1111',
      '4111********1111',
      '411111******1111',
      '**** **** **** 1111',
      'card ****1234',
      'card #1234 and ticket #12345, PR #4111',
      '4111-11**-****-1111',
      '4111 * 1111 * 1111 * 1111',
      '4111**1111**1111**1111',
      '4111##1111##1111##1111',
      '4111~~1111~~1111~~1111',
      ROUND_PRODUCT,
    ])
      expect(found(text), text).toEqual([]);
  });

  it('takes a lone delimiter next to a card that is not grouped by one for a field boundary', () => {
    expect(found('42|4111111111111111|jane')).toEqual([['CREDIT_CARD', '4111111111111111']]);
    expect(found('7;4111 1111 1111 1111;12')).toEqual([['CREDIT_CARD', '4111 1111 1111 1111']]);
    expect(found('2*4111-1111-1111-1111')).toEqual([['CREDIT_CARD', '4111-1111-1111-1111']]);
  });

  it.each([
    '4111 | 1111 | 1111 | 1111',
    'sizes 4111; 1111; 1111; 1111',
    '4111 * 1111 * 1111 * 1111',
    '4111||1111||1111||1111',
    '4111**1111**1111**1111',
    '4111;;1111;;1111;;1111',
    'row 5|4111|1111|1111|1111|7',
    '* 4111\n* 1111\n* 1111\n* 1111',
    // Fields of a delimited row, the delimiter before or after them; and an asterisk is a product.
    'GET|4111|1111|1111|1111',
    '4111;1111;1111;1111;EUR',
    '*4111*1111*1111*1111',
    '4111#1111#1111#1111#',
  ])('does not join padded, doubled or longer rows of lone delimiters: %j', (text) => {
    expect(found(text)).toEqual([]);
  });

  // A digit alone between separators, every one of them: matrices, bit strings, scores, digits spelled
  // out one by one ("4 1 1 1 ..."). No printed card layout has groups of one (isCardLayout), and
  // reading them would turn every such row of 16 digits that passes Luhn into a card.
  it('does not read single digits each between separators', () => {
    expect(found('4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1')).toEqual([]);
    expect(found('4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1')).toEqual([]);
  });

  // Column alignment pads between columns, not inside a value: four or more spaces are more than a gap
  // (common.ts MAX_GAP), so memory and counter tables ("free -m", "df") are not cards.
  it('does not join numbers aligned in columns by four or more spaces', () => {
    expect(found('Mem:    4096    2048    1024    3019')).toEqual([]);
  });

  describe('linear time on adversarial 1 MiB inputs', () => {
    it.each([
      ['pipe-separated groups', fill('4111|')],
      ['semicolon-separated groups', fill('4111;')],
      ['asterisk-separated groups', fill('4111*')],
      ['doubled pipes', fill('4111||')],
      ['masked groups', fill('4111 **** ')],
      ['wide columns', fill('4096    ')],
    ])('%s completes', (_name, text) => {
      expect(found(text)).toEqual([]);
    });
  });
});
