// The product page: "schemas are published openly under CC BY 4.0". A contract review found the
// licence naming two of the three published schemas: each one in schemas/ must be named in it.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../schemas/', import.meta.url);

describe('schemas/LICENSE', () => {
  it('names every published schema file, and says the vendored OCSF source keeps its own licence', () => {
    const licence = readFileSync(new URL('LICENSE', dir), 'utf8').replace(/\s+/g, ' ');
    const published = readdirSync(dir).filter((f) => f.endsWith('.schema.json'));
    expect(published.length).toBeGreaterThanOrEqual(3);
    for (const file of published) expect(licence, file).toContain(file);
    expect(licence).toContain('ocsf-1.8.0/LICENSE');
  });
});
