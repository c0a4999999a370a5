import { ApiError } from '../common/errors/api-error';

/**
 * The database cannot be reached or is shutting down. Answered 503 with Retry-After. Usually
 * nothing was committed, but a connection lost during COMMIT leaves that unknown: the retry
 * with the same idempotency key tells (a replay if it had committed).
 */
export class DatabaseUnavailableError extends ApiError {
  constructor(cause: unknown) {
    super('DATABASE_UNAVAILABLE', 'the database is unavailable; retry shortly, with the same idempotency key for a change (it is never applied twice)', {
      headers: { 'Retry-After': '1' },
      cause,
    });
    this.name = 'DatabaseUnavailableError';
  }
}

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// 57P01-03: admin/crash shutdown, cannot connect now; 53300: too many connections.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const PG_CLIENT_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Query read timeout',
  'Client was closed and is not queryable',
];

function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Connection loss, refusal or server shutdown, as reported by `pg` and PostgreSQL. */
export function isPostgresUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (NETWORK_ERRORS.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) {
    return true;
  }
  const message = error instanceof Error ? error.message : '';
  return PG_CLIENT_CONNECTION_MESSAGES.some((fragment) => message.includes(fragment));
}

// I/O failures, a full disk, a file that cannot be opened or written, a lock held too long.
const SQLITE_UNAVAILABLE = /^SQLITE_(IOERR|FULL|CANTOPEN|READONLY|BUSY|LOCKED|NOMEM)/;

export function isSqliteUnavailable(error: unknown): boolean {
  return SQLITE_UNAVAILABLE.test(codeOf(error) ?? '');
}

/** `error`, or a DatabaseUnavailableError in its place when `isUnavailable` says so (an Error stays an Error). */
export function translated<E>(error: E, isUnavailable: (error: unknown) => boolean): E | DatabaseUnavailableError {
  return isUnavailable(error) && !(error instanceof DatabaseUnavailableError) ? new DatabaseUnavailableError(error) : error;
}
