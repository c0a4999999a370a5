import type { FieldIssue } from './types';

/**
 * Answers the service asks clients to try again later: a full queue, a shutdown, an unreachable
 * database (503), an update not finished in time (504), a request not received in time (408),
 * a rate limit (429), and a gateway in front of the service that could not reach it (502).
 * Nothing about them is final: a change resent with the same idempotency key is applied at most
 * once, whatever happened to the first try.
 */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/** Whether an HTTP answer is worth trying again (with the same idempotency key, for a change). */
export function isRetryableAnswer(status: number, code: string | undefined): boolean {
  if (status === 409) {
    // The one 409 that is not an outcome: another request with the same key is still being
    // processed, and a retry returns its outcome. Every other 409 (VERSION_CONFLICT,
    // INSUFFICIENT_STOCK…) is a decision that the same request would get again.
    return code === 'IDEMPOTENCY_KEY_IN_USE';
  }
  return RETRYABLE_STATUSES.has(status);
}

/** Every failure the client reports. */
export abstract class InventoryError extends Error {
  /**
   * The idempotency keys the request carried: one for a change, one per item for a batch, none
   * for a read. Resending the request with them is always safe: each change is applied at most
   * once, and the answer says how it ended.
   */
  idempotencyKeys: readonly string[] = [];
  /** The body sent (for a change, with its key): what to resend to learn an unknown outcome. */
  requestBody: unknown;
  /** How many tries were made (1: no retry). */
  attempts = 1;

  /** The key of a single change (undefined for reads and batches). */
  get idempotencyKey(): string | undefined {
    return this.idempotencyKeys.length === 1 ? this.idempotencyKeys[0] : undefined;
  }

  /** Whether trying again (with the same key) may succeed. */
  abstract get retryable(): boolean;
}

export interface HttpErrorInit {
  readonly operation: string;
  readonly status: number;
  readonly body: unknown;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly replayed: boolean;
}

/**
 * The service answered with an error: an RFC 9457 problem (`type`, `title`, `status`, `detail`,
 * `code`, `errors`, `requestId`), or for updates the update result (see UpdateRejectedError).
 */
export class InventoryHttpError extends InventoryError {
  override readonly name: string = 'InventoryHttpError';
  readonly operation: string;
  readonly status: number;
  readonly code: string | undefined;
  readonly detail: string | undefined;
  /** For a 400: every field at fault (`updates[3].delta`, `Idempotency-Key`…). */
  readonly errors: readonly FieldIssue[];
  /** The id to quote about this request (the problem's, else the X-Request-Id answered). */
  readonly requestId: string | undefined;
  readonly type: string | undefined;
  readonly title: string | undefined;
  readonly instance: string | undefined;
  /** The body as answered (a problem's extension members, such as `lines` or `lastSeq`, are here). */
  readonly body: unknown;
  /** The answer's Retry-After, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** The stored answer of an earlier request with the same idempotency key. */
  readonly replayed: boolean;

  constructor(init: HttpErrorInit) {
    const fields = recordOf(init.body);
    const code = stringField(fields, 'code');
    const detail = stringField(fields, 'detail') ?? stringField(fields, 'error');
    const requestId = stringField(fields, 'requestId') ?? init.requestId;
    super(`${init.operation}: ${init.status}${code === undefined ? '' : ` ${code}`}${detail === undefined ? '' : `: ${detail}`}${requestId === undefined ? '' : ` (request ${requestId})`}`);
    this.operation = init.operation;
    this.status = init.status;
    this.code = code;
    this.detail = detail;
    this.errors = Array.isArray(fields.errors) ? (fields.errors as FieldIssue[]) : [];
    this.requestId = requestId;
    this.type = stringField(fields, 'type');
    this.title = stringField(fields, 'title');
    this.instance = stringField(fields, 'instance');
    this.body = init.body;
    this.retryAfterMs = init.retryAfterMs;
    this.replayed = init.replayed;
  }

  get retryable(): boolean {
    return isRetryableAnswer(this.status, this.code);
  }
}

/**
 * An update (single, or built by adjustWithRetry) that the service decided not to apply: 409
 * VERSION_CONFLICT, INSUFFICIENT_STOCK or QUANTITY_LIMIT_EXCEEDED, or 404 LEVEL_NOT_FOUND. These
 * are update results rather than problems, and are stored under the key: a retry gets the same.
 */
export class UpdateRejectedError extends InventoryHttpError {
  override readonly name: string = 'UpdateRejectedError';
  readonly productId: string | undefined;
  /** The level's version now (conflicts, insufficient stock, limits). */
  readonly currentVersion: number | undefined;
  /** The level's quantity now (insufficient stock, limits). */
  readonly currentQuantity: number | undefined;
  /** What could still be sold now (insufficient stock). */
  readonly available: number | undefined;

  constructor(init: HttpErrorInit) {
    super(init);
    const fields = recordOf(init.body);
    this.productId = stringField(fields, 'productId');
    this.currentVersion = numberField(fields, 'currentVersion');
    this.currentQuantity = numberField(fields, 'currentQuantity');
    this.available = numberField(fields, 'available');
  }
}

/**
 * No answer: the connection was refused, reset or cut, or the try took longer than its timeout.
 * For a change the outcome is unknown (it may have been applied), which is why it is resent with
 * the same idempotency key.
 */
export class InventoryNetworkError extends InventoryError {
  override readonly name: string = 'InventoryNetworkError';

  constructor(
    readonly operation: string,
    /** The try was given up after its timeout (attemptTimeoutMs). */
    readonly timedOut: boolean,
    cause: unknown,
  ) {
    super(`${operation}: ${timedOut ? 'no answer within the attempt timeout' : `no answer (${describe(cause)})`}`, { cause });
  }

  get retryable(): boolean {
    return true;
  }
}

/** Codes of Node's and undici's errors for a connection that failed, was reset or was cut. */
const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Whether `error`, thrown by fetch or while reading a body, means the connection failed. Node's
 * fetch throws `TypeError: fetch failed` with the socket error as its cause, and `TypeError:
 * terminated` when a body is cut off; other fetch implementations throw the socket error itself
 * (`socket hang up`, ECONNRESET). Anything else (a bad URL, a bug) is not retried. Errors are
 * recognised by name, message and code rather than instanceof: fetch's errors may come from
 * another realm (a test runner's sandbox, say), where they are not instances of this one's classes.
 */
export function isConnectionFailure(error: unknown): boolean {
  for (const current of causes(error)) {
    if (current.name === 'TypeError' && (current.message === 'fetch failed' || current.message === 'terminated')) {
      return true;
    }
    if ((current.code !== undefined && CONNECTION_ERROR_CODES.has(current.code)) || /socket hang up|other side closed/i.test(current.message)) {
      return true;
    }
  }
  return false;
}

/** An error and its causes, as far as they look like errors. */
function causes(error: unknown): Array<{ name: string; message: string; code: string | undefined }> {
  const chain: Array<{ name: string; message: string; code: string | undefined }> = [];
  for (let current = error; typeof current === 'object' && current !== null && chain.length < 8; current = (current as { cause?: unknown }).cause) {
    const { name, message, code } = current as { name?: unknown; message?: unknown; code?: unknown };
    if (typeof message !== 'string') {
      break;
    }
    chain.push({ name: typeof name === 'string' ? name : '', message, code: typeof code === 'string' ? code : undefined });
  }
  return chain;
}

function describe(cause: unknown): string {
  const parts = causes(cause).map(({ message, code }) => (code === undefined ? message : `${message} [${code}]`));
  return parts.length > 0 ? parts.join(': ') : String(cause);
}

function recordOf(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

function stringField(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  return typeof value === 'string' ? value : undefined;
}

function numberField(fields: Record<string, unknown>, name: string): number | undefined {
  const value = fields[name];
  return typeof value === 'number' ? value : undefined;
}
