import { randomUUID } from 'node:crypto';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics/metrics';
import type { ErrorCode } from '../errors/api-error';
import { PROBLEM_CONTENT_TYPE, problemOf } from '../errors/problem-details';
import { REQUEST_ID_HEADER } from './request-id';
import { API_SECURITY_HEADERS } from './security-headers';

/** The headers every API answer carries, written out once for these raw answers. */
const FIXED_HEADERS = [...API_SECURITY_HEADERS, ['Cache-Control', 'no-store']].map(([name, value]) => `${name}: ${value}\r\n`).join('');

function problemFor(error: NodeJS.ErrnoException): { code: ErrorCode; detail: string; field?: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { code: 'HEADERS_TOO_LARGE', detail: 'the request headers are larger than the server accepts' };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { code: 'REQUEST_TIMEOUT', detail: 'the request was not received in time' };
  }
  return { code: 'VALIDATION_FAILED', detail: 'the request is not valid HTTP/1.1', field: 'request' };
}

/**
 * Answers requests that Node's HTTP parser refuses before any route sees them (oversized or
 * malformed headers, conflicting lengths, timeouts) with problem details like every other error,
 * instead of Node's bare status line, then closes the connection, whose stream can no longer be
 * trusted.
 */
export function answerMalformedRequests(logger: Logger, metrics: Metrics) {
  return (error: NodeJS.ErrnoException, socket: Duplex): void => {
    // A request already being answered gets no second answer: a client would take it for its
    // next request's.
    if (error.code === 'ECONNRESET' || !socket.writable || answering(socket)) {
      socket.destroy();
      return;
    }
    const { code, detail, field } = problemFor(error);
    const requestId = randomUUID();
    const problem = { ...problemOf(code, detail, field === undefined ? {} : { errors: [{ field, issue: 'could not be parsed' }] }), requestId };
    const body = JSON.stringify(problem);
    metrics.rejected.inc({ code, status: String(problem.status) });
    logger.warn({ reqId: requestId, code, parserError: error.code }, detail);
    socket.end(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nDate: ${new Date().toUTCString()}\r\n` +
        `${REQUEST_ID_HEADER}: ${requestId}\r\n${FIXED_HEADERS}Connection: close\r\n\r\n${body}`,
    );
  };
}

/**
 * Whether the socket's current request has begun to be answered: Node keeps the response in
 * flight on the socket (the check its own default clientError handler makes).
 */
function answering(socket: Duplex): boolean {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage?.headersSent === true;
}
