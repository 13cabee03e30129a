import { describe, expect, it } from 'vitest';
import { detect } from '../detect.js';

const found = (text: string) => detect(text).map((f) => [f.type, text.slice(f.start, f.end)]);

describe('SSNs grouped by a lone delimiter', () => {
  it('reads a comma, semicolon or pipe alone between the groups', () => {
    for (const ssn of ['123,45,6789', '123;45;6789', '123|45|6789']) expect(found(`ssn ${ssn} ok`), ssn).toEqual([['SSN', ssn]]);
  });

  it('reads no fields of a row that delimiter separates, and no product or code with asterisks', () => {
    for (const text of [
      '2024-05-01T10:00:00Z|GET|/api/users|200|35|5120',
      'GET|200|12|1532',
      'id|w|h|d\nbox|400|30|1200',
      'Widget;450;03;2024',
      'Widget,450,03,2024',
      'size 640*48*1024',
      'matrix 128*64*3072 floats',
      'SKU*123*45*6789',
    ])
      expect(found(text), text).toEqual([]);
  });
});
