import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { TestResult } from '../api.js';
import { TestResultPanel } from './TestResultPanel.js';

const render = (result: Partial<TestResult>) =>
  renderToStaticMarkup(createElement(TestResultPanel, { result: { ok: false, status_code: null, error: null, ...result } }));

describe('TestResultPanel', () => {
  it('says why a test failed with a 2xx: the SIEM answered, and it was not a delivery', () => {
    // Elasticsearch's _bulk answers 200 with the item's error inside.
    const html = render({ status_code: 200, error: 'Elasticsearch 400: mapper_parsing_exception: failed to parse field' });
    expect(html).toContain('Test failed (HTTP 200, but not a delivery).');
    expect(html).toContain('mapper_parsing_exception');
  });

  it('names the status of any other failure, or that nothing answered', () => {
    expect(render({ status_code: 401, error: 'Authentication failed' })).toContain('Test failed (HTTP 401).');
    expect(render({ status_code: null, error: 'Connection refused' })).toContain('Test failed (no response).');
    expect(render({ ok: true, status_code: 200 })).toContain('Test event delivered (HTTP 200).');
  });
});
