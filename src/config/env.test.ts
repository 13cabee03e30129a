import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from './env.js';

describe('ENV_VARS is the one list of environment variables', () => {
  it('loadConfig reads no variable that is not in the list', () => {
    const read = new Set<string>();
    const env = new Proxy({}, {
      get: (_t, k) => {
        if (typeof k === 'string') read.add(k);
        return undefined;
      },
    });
    loadConfig(env);
    const names = new Set(ENV_VARS.map((v) => v.name));
    expect([...read].filter((k) => !names.has(k))).toEqual([]);
  });

  it('docs/configuration.md summarises exactly the listed variables', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('## Summary'), doc.indexOf('\n## ', doc.indexOf('## Summary') + 1));
    const documented = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(ENV_VARS.map((v) => v.name));
  });
});
