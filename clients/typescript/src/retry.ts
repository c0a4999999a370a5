import { InventoryError, InventoryHttpError, InventoryNetworkError, isConnectionFailure } from './errors';

/** How one call is retried. Every call takes the client's options, or its own (`retry`). */
export interface RetryOptions {
  /** Tries of one call in all, the first included (1: never retry). */
  readonly maxAttempts: number;
  /**
   * No retry starts later than this after the first try began; a wait that would end beyond it
   * (a long Retry-After, say) is not taken: the call fails at once. A call therefore takes at
   * most about maxElapsedMs + attemptTimeoutMs.
   */
  readonly maxElapsedMs: number;
  /** The first retry waits up to this long; each further one up to twice as long as the one before… */
  readonly baseDelayMs: number;
  /** …but never more than this (Retry-After aside). */
  readonly maxDelayMs: number;
  /**
   * How long one try may take before it is given up and counted as a failure without answer. The
   * service answers 503 within its submit timeout (5 s) and 504 within its processing timeout
   * (10 s), so the default leaves it time to say so. A long poll adds its `waitSeconds`.
   */
  readonly attemptTimeoutMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  maxAttempts: 6,
  maxElapsedMs: 30_000,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  attemptTimeoutMs: 20_000,
};

/** The longest time a timer can wait (2^31 - 1 ms): Node fires a longer one at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Checks a duration option: a finite number of milliseconds that a timer can wait. A value
 * outside that (Infinity, NaN, 3e9) would not mean "wait long": Node fires such a timer at once.
 */
export function checkDuration(name: string, value: number, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw new RangeError(`${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS}, not ${String(value)}`);
  }
  return value;
}

/** Checks a count option: an integer of at least 1. */
export function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer of at least 1, not ${String(value)}`);
  }
  return value;
}

/** Retry options checked whole, so that a bad value fails where it is given, not as odd timing later. */
export function checkRetryOptions(options: RetryOptions): RetryOptions {
  checkCount('retry.maxAttempts', options.maxAttempts);
  checkDuration('retry.maxElapsedMs', options.maxElapsedMs);
  checkDuration('retry.baseDelayMs', options.baseDelayMs);
  checkDuration('retry.maxDelayMs', options.maxDelayMs);
  checkDuration('retry.attemptTimeoutMs', options.attemptTimeoutMs, 1);
  return options;
}

/** What onRetry is told before each wait. */
export interface RetryEvent {
  /** The client method, e.g. `update`. */
  readonly operation: string;
  /** The try that failed (1 for the first). */
  readonly attempt: number;
  /** How long the client waits before the next try. */
  readonly delayMs: number;
  /** Why: the service's answer (status, code, Retry-After) or the connection failure. */
  readonly error: InventoryError;
  /** The keys every try of this request carries (one per change). */
  readonly idempotencyKeys: readonly string[];
}

/** Upper bound of the wait before retry `retry` (1 for the first): exponential, capped. */
export function backoffCeiling(retry: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>): number {
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
}

/**
 * The wait before retry `retry`: "full jitter" (a uniformly random time up to the backoff
 * ceiling), so that clients failed by one event do not come back in step. When the service said
 * Retry-After, that is waited in full, and the jitter comes on top of it: a queue that answered
 * every client "1 second" is not hit by all of them at the same instant a second later.
 */
export function retryDelay(retry: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const jitter = Math.floor(random() * backoffCeiling(retry, options));
  return (retryAfterMs ?? 0) + jitter;
}

const DELTA_SECONDS = /^\d+$/;
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * A Retry-After value in milliseconds from `nowMs`: delta-seconds (`120`) or an HTTP date (a date
 * already past is 0). Anything else is ignored (undefined) rather than guessed at: Date.parse
 * reads `1.5` as a day in 2001.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === '') {
    return undefined;
  }
  if (DELTA_SECONDS.test(text)) {
    return Number(text) * 1000;
  }
  let date = Number.NaN;
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) {
    date = Date.parse(text);
  } else if (ASCTIME_DATE.test(text)) {
    // asctime carries no zone; HTTP dates are always GMT.
    date = Date.parse(`${text} GMT`);
  }
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export interface RetryContext {
  readonly operation: string;
  readonly options: RetryOptions;
  /** The keys the request carries, the same on every try. */
  readonly idempotencyKeys?: readonly string[];
  /** The body sent, kept on the error for a caller that wants to resend it. */
  readonly requestBody?: unknown;
  /** The caller's: aborting it stops the call (the try in flight and any wait) with its reason. */
  readonly signal?: AbortSignal;
  readonly onRetry?: (event: RetryEvent) => void;
  /** Added to attemptTimeoutMs for every try (a long poll's wait). */
  readonly extraAttemptTimeMs?: number;
  readonly random?: () => number;
}

/**
 * Runs `attempt` until it succeeds, fails in a way a retry cannot fix, or the options' bounds
 * are reached; the last failure is thrown, with `attempts` and the `idempotencyKey`. Each try
 * gets a signal that aborts at its timeout. `attempt` is called with the same request every time:
 * for a change, the same body and so the same idempotency key, which is what makes a retry of a
 * try whose outcome is unknown safe.
 */
export async function withRetry<T>(context: RetryContext, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { options, signal } = context;
  const started = Date.now();
  for (let tries = 1; ; tries += 1) {
    signal?.throwIfAborted();
    let failure: InventoryError;
    try {
      return await withTimeout(options.attemptTimeoutMs + (context.extraAttemptTimeMs ?? 0), signal, attempt);
    } catch (error) {
      if (signal?.aborted === true) {
        throw signal.reason;
      }
      failure = asInventoryError(context.operation, error);
    }
    failure.attempts = tries;
    failure.idempotencyKeys = context.idempotencyKeys ?? [];
    failure.requestBody = context.requestBody;
    if (!failure.retryable || tries >= options.maxAttempts) {
      throw failure;
    }
    const delayMs = retryDelay(tries, options, failure instanceof InventoryHttpError ? failure.retryAfterMs : undefined, context.random);
    if (Date.now() + delayMs - started > options.maxElapsedMs) {
      throw failure;
    }
    context.onRetry?.({ operation: context.operation, attempt: tries, delayMs, error: failure, idempotencyKeys: context.idempotencyKeys ?? [] });
    await sleep(delayMs, signal);
  }
}

/** Thrown inside a try whose own timeout fired (not the caller's signal). */
class AttemptTimedOut extends Error {}

async function withTimeout<T>(timeoutMs: number, outer: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new AttemptTimedOut()), timeoutMs);
  const forward = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', forward, { once: true });
  try {
    return await attempt(controller.signal);
  } catch (error) {
    if (controller.signal.reason instanceof AttemptTimedOut && outer?.aborted !== true) {
      throw controller.signal.reason;
    }
    throw error;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}

function asInventoryError(operation: string, error: unknown): InventoryError {
  if (error instanceof InventoryError) {
    return error;
  }
  if (error instanceof AttemptTimedOut) {
    return new InventoryNetworkError(operation, true, error);
  }
  if (isConnectionFailure(error)) {
    return new InventoryNetworkError(operation, false, error);
  }
  // A bug or a misuse (a bad URL…): retrying would only repeat it.
  throw error;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
