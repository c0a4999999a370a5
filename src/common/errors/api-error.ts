import { HttpStatus } from '@nestjs/common';

/**
 * Every error a client can receive outside the update results: its status, title, and what it
 * means and what to do about it (served as the page its `type` URI points at).
 */
export const ERROR_CATALOG = {
  VALIDATION_FAILED: {
    status: HttpStatus.BAD_REQUEST,
    title: 'Request validation failed',
    about: 'A field, header, query or path parameter is missing, of the wrong type, out of range or unknown. `errors` names every one of them with what is wrong. Nothing was changed; correct the request and send it again (the same idempotency key may be reused: input errors are not stored).',
  },
  MALFORMED_JSON: {
    status: HttpStatus.BAD_REQUEST,
    title: 'Malformed JSON body',
    about: 'The body is not valid JSON. Nothing was changed; send a JSON object.',
  },
  UNAUTHENTICATED: {
    status: HttpStatus.UNAUTHORIZED,
    title: 'Missing or unknown API key',
    about: 'Every /v1 route needs a valid key in the X-API-Key header.',
  },
  STORE_FORBIDDEN: {
    status: HttpStatus.FORBIDDEN,
    title: 'API key not allowed for this store',
    about: 'The API key is scoped to other stores. Use a key whose scope includes this store.',
  },
  ADMIN_REQUIRED: {
    status: HttpStatus.FORBIDDEN,
    title: 'Admin API key required',
    about: 'Creating a level and setting an absolute quantity need an admin key.',
  },
  ROUTE_NOT_FOUND: {
    status: HttpStatus.NOT_FOUND,
    title: 'No such route',
    about: 'No route has this path. The API reference lists every route.',
  },
  METHOD_NOT_ALLOWED: {
    status: HttpStatus.METHOD_NOT_ALLOWED,
    title: 'Method not allowed',
    about: 'The route exists, but not with this method. The Allow header lists the methods it takes.',
  },
  LEVEL_NOT_FOUND: {
    status: HttpStatus.NOT_FOUND,
    title: 'Stock level not found',
    about: 'There is no stock level for this store and product. An admin key creates levels.',
  },
  PRODUCT_NOT_FOUND: {
    status: HttpStatus.NOT_FOUND,
    title: 'Product not found',
    about: 'No store this API key may see has a level of this product.',
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: HttpStatus.CONFLICT,
    title: 'Idempotency key in use',
    about: 'Another instance is still processing a request with this idempotency key. Retry after Retry-After with the same key and payload: you get that request’s outcome.',
  },
  VERSION_CONFLICT: {
    status: HttpStatus.CONFLICT,
    title: 'Version conflict',
    about: 'The version sent is not the level’s current version (currentVersion): someone changed it since it was read. Read it again, decide again, and send the change with the new version and a new idempotency key.',
  },
  QUANTITY_LIMIT_EXCEEDED: {
    status: HttpStatus.CONFLICT,
    title: 'Quantity limit exceeded',
    about: 'The change would take the level beyond the largest quantity or version the service keeps.',
  },
  FEED_POSITION_AHEAD: {
    status: HttpStatus.CONFLICT,
    title: 'Feed position beyond the last change',
    about: 'The position sent (`after` or Last-Event-ID) is beyond the last change of this feed: the feed was restarted or restored, and changes up to that position would be skipped. Take a fresh snapshot (GET /v1/stores/{storeId}/inventory) and follow the feed from the `lastSeq` of its first page; `lastSeq` in this problem is the feed’s last change now.',
  },
  FEED_POSITION_EXPIRED: {
    status: HttpStatus.GONE,
    title: 'Feed position older than the ledger keeps',
    about: 'The position sent (`after` or Last-Event-ID) is older than what the ledger keeps (LEDGER_RETENTION): the changes after it were pruned, so following the feed from there would skip them. Take a fresh snapshot (GET /v1/stores/{storeId}/inventory) and follow the feed from the `lastSeq` of its first page; `prunedThroughSeq` in this problem is the last seq pruned. A stream already running ends with an `expired` event carrying this problem.',
  },
  INSUFFICIENT_AVAILABLE: {
    status: HttpStatus.CONFLICT,
    title: 'Not enough available to hold',
    about: 'A reservation holds all of its lines or none. `lines` names each line that could not be held, with the units `requested` and those `available` (on hand less what other reservations hold). Nothing was held.',
  },
  QUANTITY_BELOW_RESERVED: {
    status: HttpStatus.CONFLICT,
    title: 'Quantity below what is reserved',
    about: 'An absolute quantity may not be set below the units active reservations hold (`reserved`): those units are promised to customers. Commit or release the reservations first, or set a higher quantity.',
  },
  RESERVATION_NOT_FOUND: {
    status: HttpStatus.NOT_FOUND,
    title: 'Reservation not found',
    about: 'No reservation has this id.',
  },
  RESERVATION_NOT_ACTIVE: {
    status: HttpStatus.CONFLICT,
    title: 'Reservation no longer active',
    about: 'The reservation was already committed or released (`reservationStatus` says which): a committed reservation cannot be released or extended, a released one cannot be committed or extended.',
  },
  RESERVATION_EXPIRED: {
    status: HttpStatus.CONFLICT,
    title: 'Reservation expired',
    about: 'The hold ran out before the commit or extension. A commit after expiry still succeeds when the units are available then; otherwise this answer names the `lines` that are short. Reserve again to hold stock anew.',
  },
  PRECONDITION_FAILED: {
    status: HttpStatus.PRECONDITION_FAILED,
    title: 'Precondition failed',
    about: 'If-Match names a version that is not the level’s current one, or a level that does not exist. Read the level (its ETag) and try again. Not stored under the idempotency key: the corrected request may reuse it.',
  },
  PRECONDITION_REQUIRED: {
    status: 428,
    title: 'Precondition required',
    about: 'The level exists, so changing it needs its current version (body `version` or If-Match), so that no change made since it was read is overwritten. Not stored under the idempotency key: the corrected request may reuse it.',
  },
  REQUEST_TIMEOUT: {
    status: HttpStatus.REQUEST_TIMEOUT,
    title: 'Request not received in time',
    about: 'The request (its headers or body) did not arrive in time; the connection is closed. Nothing was done: send it again.',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    title: 'Request headers too large',
    about: 'The request headers are larger than the server accepts; the connection is closed. Nothing was done.',
  },
  EXPECTATION_FAILED: {
    status: HttpStatus.EXPECTATION_FAILED,
    title: 'Expectation not supported',
    about: 'The request has an Expect header other than 100-continue, the only expectation the service meets. Nothing was done: send it without that header.',
  },
  PAYLOAD_TOO_LARGE: {
    status: HttpStatus.PAYLOAD_TOO_LARGE,
    title: 'Request body too large',
    about: 'The body is larger than the service accepts (BODY_LIMIT_BYTES). Split a large batch.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    title: 'Unsupported media type',
    about: 'Bodies must be UTF-8 JSON (application/json), sent as is or with Content-Encoding gzip, deflate or br.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: HttpStatus.UNPROCESSABLE_ENTITY,
    title: 'Idempotency key reused',
    about: 'This idempotency key was used before with a different payload. A key stands for one change: use a new key for a new change.',
  },
  RATE_LIMITED: {
    status: HttpStatus.TOO_MANY_REQUESTS,
    title: 'Too many requests',
    about: 'Over the API key’s request rate, or too many failed authentications from this address. Wait for Retry-After seconds.',
  },
  INTERNAL_ERROR: {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    title: 'Internal server error',
    about: 'An unexpected failure. Quote the requestId when reporting it. A change retried with the same idempotency key is never applied twice.',
  },
  QUEUE_FULL: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    title: 'Update queue full',
    about: 'The instance has more updates waiting than it holds. Nothing was done: retry after Retry-After with the same idempotency key.',
  },
  SHUTTING_DOWN: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    title: 'Service shutting down',
    about: 'This instance is stopping. Nothing was done: retry after Retry-After (another instance, or this one once restarted) with the same idempotency key.',
  },
  DATABASE_UNAVAILABLE: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    title: 'Database unavailable',
    about: 'The database cannot be reached. Retry a change after Retry-After with the same idempotency key: if its commit was cut off it is replayed, never applied twice.',
  },
  NOT_READY: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    title: 'Not ready',
    about: 'The readiness probe failed; `checks` tells which check.',
  },
  PROCESSING_TIMEOUT: {
    status: HttpStatus.GATEWAY_TIMEOUT,
    title: 'Update not finished in time',
    about: 'The change was accepted but not finished within PROCESSING_TIMEOUT_MS; it may still apply. Retry with the same idempotency key and payload to learn its outcome.',
  },
} as const satisfies Record<string, { status: HttpStatus | number; title: string; about: string }>;

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

/** The most issues a 400 lists: the first ones found. */
const MAX_FIELD_ISSUES = 100;
const MAX_DETAIL_FIELDS = 10;
/** A field named longer than any the API has (an unknown key of 100 KB) is clipped, not echoed whole. */
const MAX_FIELD_LENGTH = 200;

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

  /**
   * The first MAX_FIELD_ISSUES issues, their fields clipped to MAX_FIELD_LENGTH, and the fields of
   * the first MAX_DETAIL_FIELDS in the detail: an answer (and its log line) stays small whatever a
   * body holds.
   */
  static validation(errors: readonly FieldIssue[]): ApiError {
    const kept = errors.slice(0, MAX_FIELD_ISSUES).map((error) => (error.field.length > MAX_FIELD_LENGTH ? { ...error, field: `${error.field.slice(0, MAX_FIELD_LENGTH)}…` } : error));
    const fields = kept.slice(0, MAX_DETAIL_FIELDS).map((error) => error.field);
    const more = errors.length > MAX_DETAIL_FIELDS ? ` and ${errors.length - MAX_DETAIL_FIELDS} more` : '';
    return new ApiError('VALIDATION_FAILED', `invalid request: ${fields.join(', ')}${more}`, { errors: kept });
  }

  static invalidField(field: string, issue: string): ApiError {
    return ApiError.validation([{ field, issue }]);
  }
}
