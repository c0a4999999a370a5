import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { HeadersObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { PROBLEM_CONTENT_TYPE } from './problem-details';
import { ProblemResponseDto } from './problem.dto';

/** Documents an error answer with the RFC 9457 body. */
export function ApiProblemResponse(status: number, description: string, headers?: HeadersObject): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemResponseDto),
    ApiResponse({
      status,
      description,
      headers,
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemResponseDto) } } },
    }),
  );
}

export const RETRY_AFTER_HEADER: HeadersObject = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};

/** The request-id header and the errors every authenticated route can answer. */
export function ApiAuthenticatedRoute(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiHeader({ name: 'X-Request-Id', required: false, description: 'Correlation id (1-128 visible ASCII), echoed back; one is generated when absent.' }),
    ApiProblemResponse(400, 'Invalid input: `errors` names every field at fault.'),
    ApiProblemResponse(401, 'Missing or unknown X-API-Key.'),
    ApiProblemResponse(403, 'The API key may not access this store.'),
    ApiProblemResponse(429, 'RATE_LIMITED: too many requests for this API key (or failed authentications from this address).', RETRY_AFTER_HEADER),
    ApiProblemResponse(500, 'An unexpected failure; the body carries only the requestId to quote.'),
    ApiProblemResponse(503, 'DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay.', RETRY_AFTER_HEADER),
  );
}
