import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Metrics } from '../../metrics/metrics';
import { requestIdOf } from '../http/request-id';
import { type LineWriter, requestLogOf } from '../logging';
import { RouteTable } from '../http/route-table';
import { ApiError } from './api-error';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, problemOf } from './problem-details';

/**
 * Errors of the HTTP layer below Nest (body-parser, zlib, the router) follow http-errors: a
 * `status` (4xx for the client's fault), and from body-parser a `type` saying what failed.
 */
interface HttpLayerError {
  readonly status: number;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly message: string;
}

function isHttpLayerError(error: unknown): error is HttpLayerError {
  return error instanceof Error && typeof (error as { status?: unknown }).status === 'number';
}

function hasValidPercentEncoding(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** 5xx answers that are the service working as intended (overload, shutdown), logged at warn. */
const REFUSALS_BY_DESIGN: ReadonlySet<string> = new Set(['QUEUE_FULL', 'SHUTTING_DOWN', 'NOT_READY']);

const INTERNAL_DETAIL = 'the request could not be completed; quote the requestId when reporting it';

/**
 * The single mapping from anything thrown to an HTTP answer. Known errors keep their status;
 * everything else is a 500 carrying only the request id, so no internals reach a client.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(
    @InjectPinoLogger(ProblemDetailsFilter.name) private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
    private readonly routes: RouteTable,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const requestId = requestIdOf(request);
    const { problem, headers } = this.toProblem(exception, request);
    problem.requestId = requestId;
    // The path only: a query string may hold what does not belong in an answer or a log.
    problem.instance = request.originalUrl.split('?', 1)[0];
    this.metrics.rejected.inc({ code: problem.code, status: String(problem.status) });

    // The request's own log, so the line carries its id; the filter's for what failed before it had one.
    const log: LineWriter = requestLogOf(request) ?? this.logger;
    if (problem.status === 500) {
      log.error({ err: exception, code: problem.code }, problem.detail);
    } else if (problem.status > 500 && !REFUSALS_BY_DESIGN.has(problem.code)) {
      const cause = exception instanceof Error ? exception.cause : undefined;
      log.error({ code: problem.code, cause: cause instanceof Error ? cause.message : undefined }, problem.detail);
    } else {
      log.warn({ code: problem.code, errors: problem.errors }, problem.detail);
    }

    if (response.headersSent) {
      response.end();
      return;
    }
    for (const [name, value] of Object.entries(headers)) {
      response.setHeader(name, value);
    }
    if (!request.complete) {
      // Refused before its body had all arrived (a 401, a 413 by Content-Length): the rest is not
      // read, and the connection ends with this answer. Read and discarded, a large body would hold
      // the connection at the client's pace, and one that never ends would be answered again, 408,
      // when the request times out.
      response.setHeader('Connection', 'close');
    }
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown, request: Request): { problem: ProblemDetails; headers: Record<string, string> } {
    if (exception instanceof ApiError) {
      const extra = exception.options.errors ? { errors: exception.options.errors } : {};
      return {
        problem: { ...problemOf(exception.code, exception.detail, extra), ...exception.options.extensions },
        headers: { ...exception.options.headers },
      };
    }
    if (exception instanceof HttpException) {
      return this.fromFramework(exception.getStatus(), request);
    }
    if (isHttpLayerError(exception)) {
      return { problem: this.fromHttpLayer(exception, request), headers: {} };
    }
    return { problem: problemOf('INTERNAL_ERROR', INTERNAL_DETAIL), headers: {} };
  }

  /** Nest's own exceptions: in practice only its 404 for a request no route matched. */
  private fromFramework(status: number, request: Request): { problem: ProblemDetails; headers: Record<string, string> } {
    if (status === 404) {
      const allowed = this.routes.methodsOf(request.path);
      if (allowed.length === 0) {
        return { problem: problemOf('ROUTE_NOT_FOUND', `no route ${request.method} ${request.path}`), headers: {} };
      }
      // RFC 9110: a 405 lists the methods the path does take.
      return {
        problem: problemOf('METHOD_NOT_ALLOWED', `${request.path} does not take ${request.method}; it takes ${allowed.join(', ')}`),
        headers: { Allow: allowed.join(', ') },
      };
    }
    if (status < 500) {
      // The router refuses a path parameter it cannot percent-decode before any route runs.
      const [field, issue] = hasValidPercentEncoding(request.path) ? ['request', 'could not be read'] : ['path', 'holds invalid percent-encoding'];
      return { problem: problemOf('VALIDATION_FAILED', `the request ${field} ${issue}`, { errors: [{ field, issue }] }), headers: {} };
    }
    return { problem: problemOf('INTERNAL_ERROR', INTERNAL_DETAIL), headers: {} };
  }

  private fromHttpLayer(error: HttpLayerError, request: Request): ProblemDetails {
    switch (error.type) {
      case 'entity.too.large':
        return problemOf('PAYLOAD_TOO_LARGE', 'the request body exceeds the size limit');
      case 'entity.parse.failed':
        return problemOf('MALFORMED_JSON', 'the request body is not valid JSON', { errors: [{ field: 'body', issue: 'is not valid JSON' }] });
      case 'encoding.unsupported':
        return problemOf('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${String(request.headers['content-encoding'])} is not accepted; send the body as is, or as gzip, deflate or br`);
      case 'charset.unsupported':
        return problemOf('UNSUPPORTED_MEDIA_TYPE', 'the request body must be UTF-8 encoded JSON');
    }
    if (error.status >= 500) {
      return problemOf('INTERNAL_ERROR', INTERNAL_DETAIL);
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      // zlib found the body corrupt, truncated, or not in the encoding it claims.
      return problemOf('VALIDATION_FAILED', `the request body could not be decoded as ${encoding}`, { errors: [{ field: 'body', issue: `could not be decoded as Content-Encoding ${encoding}` }] });
    }
    return problemOf('VALIDATION_FAILED', 'the request body could not be read', { errors: [{ field: 'body', issue: 'could not be read' }] });
  }
}
