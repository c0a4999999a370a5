import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors/api-error';

/** `Expect: 100-continue` is the only expectation HTTP/1.1 defines, and the only one met (RFC 9110 §10.1.1). */
export function unmetExpectation(request: Request): string | undefined {
  const expectation = request.headers.expect;
  return expectation === undefined || expectation.toLowerCase() === '100-continue' ? undefined : expectation;
}

/** Whether the client waits for `100 Continue` before it sends the body (HTTP/1.1 only, as Node has it). */
export function expectsContinue(request: Request): boolean {
  return request.httpVersion === '1.1' && request.headers.expect?.toLowerCase() === '100-continue';
}

/** Refuses a request that expects what the service does not do, before anything else of it is read. */
@Injectable()
export class ExpectationMiddleware implements NestMiddleware {
  use(request: Request, _response: Response, next: NextFunction): void {
    if (unmetExpectation(request) !== undefined) {
      throw new ApiError('EXPECTATION_FAILED', 'the only expectation met is Expect: 100-continue', { headers: { Connection: 'close' } });
    }
    next();
  }
}
