import { HttpStatus } from '@nestjs/common';

/** Every error a client can receive outside the update results, with its status and title. */
export const ERROR_CATALOG = {
  VALIDATION_FAILED: { status: HttpStatus.BAD_REQUEST, title: 'Request validation failed' },
  MALFORMED_JSON: { status: HttpStatus.BAD_REQUEST, title: 'Malformed JSON body' },
  UNAUTHENTICATED: { status: HttpStatus.UNAUTHORIZED, title: 'Missing or unknown API key' },
  STORE_FORBIDDEN: { status: HttpStatus.FORBIDDEN, title: 'API key not allowed for this store' },
  ADMIN_REQUIRED: { status: HttpStatus.FORBIDDEN, title: 'Admin API key required' },
  ROUTE_NOT_FOUND: { status: HttpStatus.NOT_FOUND, title: 'No such route' },
  LEVEL_NOT_FOUND: { status: HttpStatus.NOT_FOUND, title: 'Stock level not found' },
  PRODUCT_NOT_FOUND: { status: HttpStatus.NOT_FOUND, title: 'Product not found' },
  IDEMPOTENCY_KEY_IN_USE: { status: HttpStatus.CONFLICT, title: 'Idempotency key in use' },
  VERSION_CONFLICT: { status: HttpStatus.CONFLICT, title: 'Version conflict' },
  QUANTITY_LIMIT_EXCEEDED: { status: HttpStatus.CONFLICT, title: 'Quantity limit exceeded' },
  FEED_POSITION_AHEAD: { status: HttpStatus.CONFLICT, title: 'Feed position beyond the last change' },
  PRECONDITION_FAILED: { status: HttpStatus.PRECONDITION_FAILED, title: 'Precondition failed' },
  PRECONDITION_REQUIRED: { status: 428, title: 'Precondition required' },
  PAYLOAD_TOO_LARGE: { status: HttpStatus.PAYLOAD_TOO_LARGE, title: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: HttpStatus.UNSUPPORTED_MEDIA_TYPE, title: 'Unsupported media type' },
  IDEMPOTENCY_KEY_REUSED: { status: HttpStatus.UNPROCESSABLE_ENTITY, title: 'Idempotency key reused' },
  RATE_LIMITED: { status: HttpStatus.TOO_MANY_REQUESTS, title: 'Too many requests' },
  INTERNAL_ERROR: { status: HttpStatus.INTERNAL_SERVER_ERROR, title: 'Internal server error' },
  QUEUE_FULL: { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'Update queue full' },
  SHUTTING_DOWN: { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'Service shutting down' },
  DATABASE_UNAVAILABLE: { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'Database unavailable' },
  NOT_READY: { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'Not ready' },
  PROCESSING_TIMEOUT: { status: HttpStatus.GATEWAY_TIMEOUT, title: 'Update not finished in time' },
} as const satisfies Record<string, { status: HttpStatus; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** One invalid input: `field` is a path into the body (`updates[2].delta`), a header or a parameter. */
export interface FieldIssue {
  readonly field: string;
  readonly issue: string;
}

export interface ApiErrorOptions {
  readonly errors?: readonly FieldIssue[];
  readonly headers?: Readonly<Record<string, string>>;
  /** Extension members added to the problem body (RFC 9457 §3.2). */
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/** A failure with a machine-readable code; the problem-details filter renders it (RFC 9457). */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly options: ApiErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'ApiError';
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  static validation(errors: readonly FieldIssue[]): ApiError {
    const fields = errors.map((error) => error.field).join(', ');
    return new ApiError('VALIDATION_FAILED', `invalid request: ${fields}`, { errors });
  }

  static invalidField(field: string, issue: string): ApiError {
    return ApiError.validation([{ field, issue }]);
  }
}
