import { describe, expect, it } from 'vitest';
import { ApiError, errorText, signedOutBy } from './api.js';

describe('errorText: what a form shows for a failed request', () => {
  it('lists every problem of a refusal, each by its field, not a pointer to error.details', () => {
    const e = new ApiError(400, 'validation_failed', 'emails[0]: must be an e-mail address like name@example.com (2 more problems listed in error.details)', [
      { path: '/emails/0', message: 'must be an e-mail address like name@example.com' },
      { path: '/emails/1', message: 'must be an e-mail address like name@example.com' },
      { path: '/webhook_url', message: 'must be an https:// URL' },
    ]);
    const text = errorText(e);
    expect(text).toBe(
      'emails[0]: must be an e-mail address like name@example.com; emails[1]: must be an e-mail address like name@example.com; webhook_url: must be an https:// URL',
    );
    expect(text).not.toContain('error.details');
  });

  it('says when the API listed the first problems only', () => {
    const details = Array.from({ length: 20 }, (_, i) => ({ path: `/events/${i}/summary`, message: 'must not be empty' }));
    const e = new ApiError(
      400,
      'validation_failed',
      'events[0].summary: must not be empty (more problems follow; the first 20 are listed in error.details)',
      details,
    );
    expect(errorText(e)).toMatch(/^events\[0\]\.summary: must not be empty; .*events\[19\]\.summary: must not be empty; and more$/);
  });

  it('shows the message of a refusal with one problem or none as the API wrote it', () => {
    expect(errorText(new ApiError(409, 'limit_reached', 'At most 25 enabled destinations.'))).toBe('At most 25 enabled destinations.');
    expect(errorText(new ApiError(400, 'validation_failed', 'url: must be https', [{ path: '/url', message: 'must be https' }]))).toBe('url: must be https');
    expect(errorText(new Error('fetch failed'))).toBe('Could not reach the service: fetch failed');
  });
});

describe('signedOutBy: which failures show the sign-in page', () => {
  it('a 401 does, but not the session cookie sent twice, whose message says what to do', () => {
    expect(signedOutBy(new ApiError(401, 'unauthorized', 'Not signed in.'))).toBe(true);
    expect(signedOutBy(new ApiError(401, 'session_conflict', 'Two session cookies were sent.'))).toBe(false);
    expect(signedOutBy(new ApiError(403, 'csrf_failed', 'Missing or wrong CSRF token.'))).toBe(false);
    expect(signedOutBy(new Error('network'))).toBe(false);
  });
});
