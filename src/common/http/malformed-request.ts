import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics/metrics';
import type { ErrorCode } from '../errors/api-error';
import { PROBLEM_CONTENT_TYPE, problemOf } from '../errors/problem-details';
import { REQUEST_ID_HEADER } from './request-id';
import { API_SECURITY_HEADERS } from './security-headers';

/** The headers every API answer carries. */
const FIXED_HEADERS: ReadonlyArray<readonly [string, string]> = [...API_SECURITY_HEADERS, ['Cache-Control', 'no-store']];

function problemFor(error: NodeJS.ErrnoException): { code: ErrorCode; detail: string; field?: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { code: 'HEADERS_TOO_LARGE', detail: 'the request headers are larger than the server accepts' };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { code: 'REQUEST_TIMEOUT', detail: 'the request was not received in time' };
  }
  return { code: 'VALIDATION_FAILED', detail: 'the request is not valid HTTP/1.1', field: 'request' };
}

/** A problem answered below the routes, counted and logged: its status, headers and body. */
function rawProblem(logger: Logger, metrics: Metrics, { code, detail, field }: { code: ErrorCode; detail: string; field?: string }, logged: object) {
  const requestId = randomUUID();
  const problem = { ...problemOf(code, detail, field === undefined ? {} : { errors: [{ field, issue: 'could not be parsed' }] }), requestId };
  const body = JSON.stringify(problem);
  metrics.rejected.inc({ code, status: String(problem.status) });
  logger.warn({ reqId: requestId, code, ...logged }, detail);
  const headers: Array<readonly [string, string]> = [
    ['Content-Type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`],
    ['Content-Length', String(Buffer.byteLength(body))],
    [REQUEST_ID_HEADER, requestId],
    ...FIXED_HEADERS,
    ['Connection', 'close'],
  ];
  return { status: problem.status, headers, body };
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
    const { status, headers, body } = rawProblem(logger, metrics, problemFor(error), { parserError: error.code });
    const head = [...headers, ['Date', new Date().toUTCString()]].map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
  };
}

/**
 * Answers a request whose `Expect` header asks for something other than `100-continue` (the only
 * expectation HTTP/1.1 defines, RFC 9110 §10.1.1) with a 417 problem instead of Node's bare
 * status line, and closes its connection, whose body was never asked for. Node hands only such
 * requests to this listener ('checkExpectation'), so no other request pays for the check.
 */
export function answerUnmetExpectations(logger: Logger, metrics: Metrics) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const { status, headers, body } = rawProblem(logger, metrics, { code: 'EXPECTATION_FAILED', detail: 'the only expectation met is Expect: 100-continue' }, { expect: request.headers.expect });
    response.writeHead(status, Object.fromEntries(headers)).end(body);
  };
}

/**
 * Whether the socket's current request has begun to be answered: Node keeps the response in
 * flight on the socket (the check its own default clientError handler makes).
 */
function answering(socket: Duplex): boolean {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage?.headersSent === true;
}
