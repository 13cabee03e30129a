// The result of one outbound HTTP attempt: either the SIEM answered, or the network failed.
// Shared by the delivery worker, the synchronous test probe and the failure classifier.

export type NetworkFailure = 'dns' | 'timeout' | 'tls' | 'refused' | 'reset' | 'forbidden_address' | 'other';

export interface ResponseResult {
  kind: 'response';
  status: number;
  headers: Record<string, string | undefined>;
  /** The first bytes of the response body (at most the client's maxResponseBytes), decoded as UTF-8. */
  body: string;
  /**
   * Set when `body` is not the whole answer: cut at maxResponseBytes, or (for a refusal, which stays
   * one) cut by the connection or the body's deadline. Its end may fall inside an echoed secret.
   */
  truncated?: true;
  durationMs: number;
}

export interface NetworkResult {
  kind: 'network';
  failure: NetworkFailure;
  /** The underlying error code (ENOTFOUND, UND_ERR_HEADERS_TIMEOUT, EAEGISFORBIDDEN, ...). */
  code?: string;
  /** A short description; never contains request headers. */
  message: string;
  /** The destination host, for hints ("DNS lookup failed for host ..."). */
  host?: string;
  durationMs: number;
}

export type OutboundResult = ResponseResult | NetworkResult;
