import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Metrics } from '../../metrics/metrics';
import { requestIdOf } from '../http/request-id';
import { ApiError, type ErrorCode } from './api-error';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, problemOf } from './problem-details';

/** Errors raised by the JSON body parser carry a `type` and a `status`. */
interface BodyParserError {
  type: string;
  status: number;
  message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as BodyParserError).type === 'string' &&
    typeof (error as BodyParserError).status === 'number'
  );
}

const CODE_BY_HTTP_STATUS: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: 'VALIDATION_FAILED',
  [HttpStatus.UNAUTHORIZED]: 'UNAUTHENTICATED',
  [HttpStatus.NOT_FOUND]: 'ROUTE_NOT_FOUND',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'PAYLOAD_TOO_LARGE',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'UNSUPPORTED_MEDIA_TYPE',
  [HttpStatus.TOO_MANY_REQUESTS]: 'RATE_LIMITED',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'SHUTTING_DOWN',
};

/**
 * The single mapping from anything thrown to an HTTP answer. Known errors keep their status;
 * everything else is a 500 carrying only the request id, so no internals reach a client.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(
    @InjectPinoLogger(ProblemDetailsFilter.name) private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const requestId = requestIdOf(request);
    const { problem, headers } = this.toProblem(exception);
    problem.requestId = requestId;
    problem.instance = request.originalUrl;
    this.metrics.rejected.inc({ code: problem.code, status: String(problem.status) });

    if (problem.status === 500) {
      this.logger.error({ err: exception, code: problem.code }, problem.detail);
    } else if (problem.status > 500) {
      const cause = exception instanceof Error ? exception.cause : undefined;
      this.logger.error({ code: problem.code, cause: cause instanceof Error ? cause.message : undefined }, problem.detail);
    } else {
      this.logger.warn({ code: problem.code, errors: problem.errors }, problem.detail);
    }

    if (response.headersSent) {
      response.end();
      return;
    }
    for (const [name, value] of Object.entries(headers)) {
      response.setHeader(name, value);
    }
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown): { problem: ProblemDetails; headers: Record<string, string> } {
    if (exception instanceof ApiError) {
      const extra = exception.options.errors ? { errors: exception.options.errors } : {};
      return {
        problem: { ...problemOf(exception.code, exception.detail, extra), ...exception.options.extensions },
        headers: { ...exception.options.headers },
      };
    }
    if (isBodyParserError(exception)) {
      return { problem: this.fromBodyParser(exception), headers: {} };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = CODE_BY_HTTP_STATUS[status];
      if (code !== undefined) {
        const problem = problemOf(code, exception.message);
        return { problem, headers: {} };
      }
    }
    return { problem: problemOf('INTERNAL_ERROR', 'the request could not be completed; quote the requestId when reporting it'), headers: {} };
  }

  private fromBodyParser(error: BodyParserError): ProblemDetails {
    switch (error.type) {
      case 'entity.too.large':
        return problemOf('PAYLOAD_TOO_LARGE', 'the request body exceeds the size limit');
      case 'entity.parse.failed':
        return problemOf('MALFORMED_JSON', 'the request body is not valid JSON');
      case 'charset.unsupported':
      case 'encoding.unsupported':
        return problemOf('UNSUPPORTED_MEDIA_TYPE', 'the request body must be UTF-8 encoded JSON');
      default:
        return error.status >= 400 && error.status < 500
          ? problemOf('VALIDATION_FAILED', 'the request body could not be read')
          : problemOf('INTERNAL_ERROR', 'the request could not be completed; quote the requestId when reporting it');
    }
  }
}
