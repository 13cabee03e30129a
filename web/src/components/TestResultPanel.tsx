import type { TestResult } from '../api.js';

/** Green for 2xx, red with the service's action-oriented hint otherwise. */
export function TestResultPanel({ result }: { result: TestResult }) {
  if (result.ok) {
    return (
      <div className="result result-ok" data-testid="test-result" data-ok="true">
        <strong>
          <span aria-hidden="true">✓ </span>Test event delivered{result.status_code !== null ? ` (HTTP ${result.status_code})` : ''}.
        </strong>
        <p>The synthetic aegis.audit_stream.test event reached your SIEM.</p>
      </div>
    );
  }
  // A 2xx that was still no delivery (an Elasticsearch _bulk item error, a proxy's page, an answer
  // cut short): saying only "HTTP 200" beside "failed" reads as a contradiction.
  const what =
    result.status_code === null
      ? 'no response'
      : result.status_code >= 200 && result.status_code < 300
        ? `HTTP ${result.status_code}, but not a delivery`
        : `HTTP ${result.status_code}`;
  return (
    <div className="result result-failed" data-testid="test-result" data-ok="false">
      <strong>
        <span aria-hidden="true">✕ </span>Test failed ({what}).
      </strong>
      <p>{result.error ?? 'The SIEM did not accept the test event.'}</p>
    </div>
  );
}
