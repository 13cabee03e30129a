import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';
import { sizeText } from './errorHandler.js';

/**
 * What the server answers a request it cannot parse as HTTP (headers over the size limit, a header
 * line without a colon, Content-Length with Transfer-Encoding, a request that took too long to
 * arrive): Node refuses it before Fastify's routes and error handler see it, and Fastify's own
 * answer was `{"error":"Bad Request","message":"Client Error","statusCode":400}`, not the
 * `{"error": {"code", "message"}}` every other refusal has. The connection is closed after it.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nothing to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message] = refusal(err.code);
  if (socket.writable) {
    const body = JSON.stringify({ error: { code, message } });
    const status = ERROR_STATUS[code];
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function refusal(nodeCode: string | undefined): [ErrorCode, string] {
  if (nodeCode === 'HPE_HEADER_OVERFLOW')
    return ['headers_too_large', `The request line and headers are larger than the server accepts (${sizeText(maxHeaderSize)}).`];
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') return ['request_timeout', 'The request did not arrive in time.'];
  return ['bad_request', 'The request is not valid HTTP/1.1.'];
}
