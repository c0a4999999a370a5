import createClient, { type Client } from 'openapi-fetch';
import { InventoryHttpError, UpdateRejectedError } from './errors';
import { ChangeFeed, type FeedOptions, type FeedSource } from './feed';
import type { paths } from './generated/openapi';
import { checkCount, checkDuration, checkRetryOptions, DEFAULT_RETRY_OPTIONS, parseRetryAfter, retryDelay, type RetryEvent, type RetryOptions, sleep, withRetry } from './retry';
import type {
  Applied,
  BatchInput,
  BatchItemResult,
  BatchResult,
  ChangesPage,
  CommitInput,
  HistoryPage,
  ProductStock,
  Reservation,
  ReservationInput,
  SetLevelInput,
  StockLevel,
  StockLevelPage,
  StoreSnapshot,
  UpdateFailure,
  UpdateInput,
  UpdateResult,
} from './types';

/** The largest page listLevels serves. */
const SNAPSHOT_PAGE_SIZE = 500;

export interface InventoryClientOptions {
  /** e.g. `http://localhost:8081` */
  readonly baseUrl: string;
  /** Sent as X-API-Key. */
  readonly apiKey: string;
  /** How calls are retried (DEFAULT_RETRY_OPTIONS for what is left out). */
  readonly retry?: Partial<RetryOptions>;
  /** Told before every wait for a retry: for logs and metrics. */
  readonly onRetry?: (event: RetryEvent) => void;
  /** The fetch to send requests with (default: the global one). */
  readonly fetch?: (request: Request) => Promise<Response>;
  /** Makes the idempotency key of a change the caller gave none (default: crypto.randomUUID). */
  readonly newIdempotencyKey?: () => string;
}

export interface CallOptions {
  /** Aborting it stops the call: the request in flight and any wait for a retry. */
  readonly signal?: AbortSignal;
  /** This call's retry options, over the client's. */
  readonly retry?: Partial<RetryOptions>;
}

export interface KeyedCallOptions extends CallOptions {
  /** The change's idempotency key (default: a new random UUID). */
  readonly idempotencyKey?: string;
}

export interface AdjustOptions extends CallOptions {
  /**
   * Changes tried in all: each VERSION_CONFLICT starts a new one, with the level's new version
   * and a new key (default 10).
   */
  readonly maxAttempts?: number;
  /** The wait between a conflict and the next change: full jitter, up to base × 2^n, capped (default 25 ms, 1 s). */
  readonly conflictBackoff?: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly reason?: string;
  readonly reference?: string;
}

/**
 * What adjustWithRetry ended with: the update applied (with the delta decided and the changes it
 * took), or, when `decide` returned 0, null or undefined, the level it declined to change.
 */
export type AdjustResult =
  | (Applied<UpdateResult> & { readonly delta: number; readonly attempts: number })
  | { readonly applied: false; readonly level: StockLevel; readonly attempts: number };

/** What a read-modify-write decides from the level it read: the delta, or 0/null for no change. */
export type Decide = (level: StockLevel) => number | null | undefined;

type ApiResponse<T> = { data?: T; error?: unknown; response: Response };

/**
 * A typed client of the inventory service. Every change carries an idempotency key (the caller's
 * or a new UUID) and is retried with that same key; see RetryOptions and README "Integrating".
 */
export class InventoryClient implements FeedSource {
  /** The generated, typed client underneath (openapi-fetch), for routes without a method here. */
  readonly api: Client<paths>;
  private readonly retryDefaults: RetryOptions;
  private readonly newKey: () => string;

  constructor(private readonly options: InventoryClientOptions) {
    this.api = createClient<paths>({
      baseUrl: options.baseUrl,
      headers: { 'X-API-Key': options.apiKey },
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    this.retryDefaults = checkRetryOptions({ ...DEFAULT_RETRY_OPTIONS, ...options.retry });
    this.newKey = options.newIdempotencyKey ?? (() => globalThis.crypto.randomUUID());
  }

  /** The retry options a call runs with. */
  retryOptions = (override?: Partial<RetryOptions>): RetryOptions => (override === undefined ? this.retryDefaults : checkRetryOptions({ ...this.retryDefaults, ...override }));

  // Reads (safe to retry: they change nothing).

  async getLevel(storeId: string, productId: string, options: CallOptions = {}): Promise<StockLevel> {
    const path = pathOf({ storeId, productId });
    const { data } = await this.send('getLevel', options, [], (signal) => this.api.GET('/v1/stores/{storeId}/inventory/{productId}', { params: { path }, signal }));
    return data;
  }

  async getProduct(productId: string, options: CallOptions = {}): Promise<ProductStock> {
    const path = pathOf({ productId });
    const { data } = await this.send('getProduct', options, [], (signal) => this.api.GET('/v1/inventory/{productId}', { params: { path }, signal }));
    return data;
  }

  /** One page of a store's levels by product id; pass `nextCursor` for the next. The first page's `lastSeq` is where a copy follows the feed from. */
  async listLevels(storeId: string, page: { limit?: number; cursor?: string } = {}, options: CallOptions = {}): Promise<StockLevelPage> {
    const path = pathOf({ storeId });
    const { data } = await this.send('listLevels', options, [], (signal) => this.api.GET('/v1/stores/{storeId}/inventory', { params: { path, query: page }, signal }));
    return data;
  }

  /**
   * A store's whole stock, every page of listLevels, and `lastSeq`: the first page's, the position
   * a copy built from these levels follows the feed from (a level read on a later page may already
   * reflect a change after it; the feed's copy of that change has a version the copy already has).
   */
  async snapshot(storeId: string, options: CallOptions = {}): Promise<StoreSnapshot> {
    const levels: StockLevel[] = [];
    let cursor: string | undefined;
    let lastSeq: number | undefined;
    do {
      const page = await this.listLevels(storeId, { limit: SNAPSHOT_PAGE_SIZE, cursor }, options);
      lastSeq ??= page.lastSeq;
      levels.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return { levels, lastSeq };
  }

  /** One page of a level's ledger entries, newest first. */
  async history(storeId: string, productId: string, page: { limit?: number; cursor?: string } = {}, options: CallOptions = {}): Promise<HistoryPage> {
    const path = pathOf({ storeId, productId });
    const { data } = await this.send('history', options, [], (signal) => this.api.GET('/v1/stores/{storeId}/inventory/{productId}/history', { params: { path, query: page }, signal }));
    return data;
  }

  async getReservation(reservationId: string, options: CallOptions = {}): Promise<Reservation> {
    const path = pathOf({ reservationId });
    const { data } = await this.send('getReservation', options, [], (signal) => this.api.GET('/v1/reservations/{reservationId}', { params: { path }, signal }));
    return data;
  }

  /** One request of the feed (a long poll when `waitSeconds` > 0); `changes()` follows it for you. */
  async getChanges(query: { after?: number; storeId?: string; limit?: number; waitSeconds?: number }, options: CallOptions = {}): Promise<ChangesPage> {
    const { data } = await this.send('getChanges', { ...options, extraAttemptTimeMs: (query.waitSeconds ?? 0) * 1000 }, [], (signal) =>
      this.api.GET('/v1/changes', { params: { query }, signal }),
    );
    return data;
  }

  /** Opens the Server-Sent Events stream (retried until it starts); `changes({ transport: 'sse' })` reads it for you. */
  async openChangeStream(query: { after: number; storeId?: string }, options: CallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const { data } = await this.send('changes', options, [], (signal) =>
      this.api.GET('/v1/changes/stream', { params: { query }, headers: { Accept: 'text/event-stream' }, parseAs: 'stream', signal }),
    );
    if (data === null) {
      throw new TypeError('the change stream answered without a body');
    }
    return data;
  }

  /**
   * Follows the change feed from `after`: `for await (const event of client.changes({ after }))`.
   * See FeedEvent for what to do with each event.
   */
  changes(options: FeedOptions): ChangeFeed {
    return new ChangeFeed(this, options);
  }

  // Changes: each carries an idempotency key, the same one on every try.

  /** One update at a version. A decision not to apply it (409, 404) is thrown as UpdateRejectedError. */
  async update(input: UpdateInput, options: CallOptions = {}): Promise<Applied<UpdateResult>> {
    const idempotencyKey = input.idempotencyKey ?? this.newKey();
    // Built once: every try sends these very bytes, so a retry is the same request to the service.
    const body = { ...input, idempotencyKey };
    const { data, response } = await this.send('update', { ...options, requestBody: body }, [idempotencyKey], (signal) => this.api.POST('/v1/inventory/updates', { body, signal }));
    return { ...(data as UpdateResult), idempotencyKey, replayed: isReplay(response) };
  }

  /**
   * Up to 100 updates of one store in one request; items without a key get one each. Item
   * failures are results (`applied: false`, with `code`), not exceptions; with `atomic`, all
   * items apply or none.
   */
  async updateBatch(input: BatchInput, options: CallOptions = {}): Promise<BatchResult> {
    const updates = input.updates.map((item) => ({ ...item, idempotencyKey: item.idempotencyKey ?? this.newKey() }));
    const body = { ...input, atomic: input.atomic ?? false, updates };
    const keys = updates.map((item) => item.idempotencyKey);
    const { data } = await this.send('updateBatch', { ...options, requestBody: body }, keys, (signal) => this.api.POST('/v1/inventory/updates', { body, signal }));
    const answered = data as unknown as { results: Array<UpdateResult | UpdateFailure>; summary: BatchResult['summary'] };
    const results: BatchItemResult[] = answered.results.map((result, index) => ({ ...result, idempotencyKey: keys[index] }));
    return { results, summary: answered.summary };
  }

  /**
   * Read-modify-write of one level: reads it, sends `decide(level)` (or the fixed delta) at the
   * version read, and when another change got there first (409 VERSION_CONFLICT) does it again
   * against the level's new version, up to `maxAttempts` changes.
   *
   * Each of those changes is a new logical change with a new key: a conflict is the service's
   * answer that the change was not applied, so nothing is lost by abandoning its key, and a new
   * decision may differ. Within one change, failures without a decision (a cut connection, a
   * timeout, 503, 504) are retried with that change's key, never a new one: its outcome is
   * unknown, and only its own key makes resending it safe. So if those retries run out, the
   * error is thrown (with the key and `requestBody`, to resend it) instead of trying a new change
   * that could apply the adjustment twice.
   *
   * With a fixed delta, a conflict's `currentVersion` is all the next change needs. With a
   * function, the level is read again: the conflict carries the version but not the quantity the
   * function decides from.
   */
  async adjustWithRetry(storeId: string, productId: string, decide: number | Decide, options: AdjustOptions = {}): Promise<AdjustResult> {
    const { maxAttempts = 10, conflictBackoff = { baseDelayMs: 25, maxDelayMs: 1_000 }, reason, reference, ...call } = options;
    checkCount('maxAttempts', maxAttempts);
    checkDuration('conflictBackoff.baseDelayMs', conflictBackoff.baseDelayMs);
    checkDuration('conflictBackoff.maxDelayMs', conflictBackoff.maxDelayMs);
    let level = await this.getLevel(storeId, productId, call);
    let version = level.version;
    for (let attempt = 1; ; attempt += 1) {
      const delta = typeof decide === 'number' ? decide : decide(level);
      if (delta === 0 || delta === null || delta === undefined) {
        return { applied: false, level, attempts: attempt - 1 };
      }
      let conflict: UpdateRejectedError;
      try {
        const result = await this.update({ storeId, productId, delta, version, idempotencyKey: this.newKey(), ...(reason === undefined ? {} : { reason }), ...(reference === undefined ? {} : { reference }) }, call);
        return { ...result, delta, attempts: attempt };
      } catch (error) {
        if (!(error instanceof UpdateRejectedError) || error.code !== 'VERSION_CONFLICT' || attempt >= maxAttempts) {
          throw error;
        }
        conflict = error;
      }
      // Contenders that all lost to one winner would otherwise come back together and collide again.
      await sleep(retryDelay(attempt, conflictBackoff, undefined), call.signal);
      if (typeof decide === 'number' && conflict.currentVersion !== undefined) {
        version = conflict.currentVersion;
      } else {
        level = await this.getLevel(storeId, productId, call);
        version = level.version;
      }
    }
  }

  /** Holds a cart's lines (all or none). 409 INSUFFICIENT_AVAILABLE names the short `lines` in `error.body`. */
  async reserve(input: ReservationInput, options: CallOptions = {}): Promise<Applied<Reservation>> {
    const idempotencyKey = input.idempotencyKey ?? this.newKey();
    const body = { ...input, idempotencyKey };
    const { data, response } = await this.send('reserve', { ...options, requestBody: body }, [idempotencyKey], (signal) => this.api.POST('/v1/reservations', { body, signal }));
    return { ...data, idempotencyKey, replayed: isReplay(response) };
  }

  // Commit, release and extend carry no key: the service makes them idempotent by state (a repeat
  // answers the reservation as it is), so a retry after a lost answer is safe as it is.

  /** Sells what is held (or the `lines` given, fewer units; the rest is released). */
  async commitReservation(reservationId: string, input: CommitInput = {}, options: CallOptions = {}): Promise<Reservation> {
    const path = pathOf({ reservationId });
    const { data } = await this.send('commitReservation', options, [], (signal) => this.api.POST('/v1/reservations/{reservationId}/commit', { params: { path }, body: input, signal }));
    return data;
  }

  async releaseReservation(reservationId: string, options: CallOptions = {}): Promise<Reservation> {
    const path = pathOf({ reservationId });
    const { data } = await this.send('releaseReservation', options, [], (signal) => this.api.POST('/v1/reservations/{reservationId}/release', { params: { path }, signal }));
    return data;
  }

  async extendReservation(reservationId: string, ttlSeconds: number, options: CallOptions = {}): Promise<Reservation> {
    const path = pathOf({ reservationId });
    const { data } = await this.send('extendReservation', options, [], (signal) => this.api.POST('/v1/reservations/{reservationId}/extend', { params: { path }, body: { ttlSeconds }, signal }));
    return data;
  }

  /**
   * Admin keys: creates a level (`{quantity}`, `created: true`) or sets its quantity at a version
   * (`{quantity, version}`; a stale one is 409 VERSION_CONFLICT). The key goes in Idempotency-Key.
   */
  async setLevel(storeId: string, productId: string, input: SetLevelInput, options: KeyedCallOptions = {}): Promise<Applied<StockLevel> & { readonly created: boolean }> {
    const { idempotencyKey = this.newKey(), ...call } = options;
    const path = pathOf({ storeId, productId });
    const { data, response } = await this.send('setLevel', { ...call, requestBody: input }, [idempotencyKey], (signal) =>
      this.api.PUT('/v1/stores/{storeId}/inventory/{productId}', { params: { path, header: { 'Idempotency-Key': idempotencyKey } }, body: input, signal }),
    );
    return { ...data, idempotencyKey, replayed: isReplay(response), created: response.status === 201 };
  }

  /**
   * Sends a request with the retry policy: `request` is called for every try with that try's
   * signal and must send the same request each time. A non-2xx answer becomes a typed error.
   */
  private async send<T>(
    operation: string,
    options: CallOptions & { requestBody?: unknown; extraAttemptTimeMs?: number },
    idempotencyKeys: readonly string[],
    request: (signal: AbortSignal) => Promise<ApiResponse<T>>,
  ): Promise<{ data: T; response: Response }> {
    return withRetry(
      {
        operation,
        options: this.retryOptions(options.retry),
        idempotencyKeys,
        requestBody: options.requestBody,
        signal: options.signal,
        onRetry: this.options.onRetry,
        extraAttemptTimeMs: options.extraAttemptTimeMs,
      },
      async (signal) => {
        const { data, error, response } = await request(signal);
        if (response.ok) {
          return { data: data as T, response };
        }
        throw httpErrorOf(operation, response, error);
      },
    );
  }
}

/**
 * A request's path parameters, each one a URL can carry as a segment of its own. The empty string,
 * `.` and `..` cannot: fetch resolves them away (`%2E` too), and the request would reach another
 * route and come back with another resource's answer. The service's identifiers allow `.` and
 * `..` in bodies; no URL can name such a level.
 */
function pathOf<T extends Record<string, string>>(params: T): T {
  for (const [name, value] of Object.entries(params)) {
    if (value === '' || value === '.' || value === '..') {
      throw new RangeError(`${name} ${JSON.stringify(value)} cannot be named in a URL path`);
    }
  }
  return params;
}

function httpErrorOf(operation: string, response: Response, body: unknown): InventoryHttpError {
  const init = {
    operation,
    status: response.status,
    body,
    requestId: response.headers.get('x-request-id') ?? undefined,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), Date.now()),
    replayed: isReplay(response),
  };
  // An update's 404 and 409 are update results ({applied: false, code, currentVersion…}), not problems.
  const isUpdateResult = typeof body === 'object' && body !== null && (body as { applied?: unknown }).applied === false;
  return isUpdateResult ? new UpdateRejectedError(init) : new InventoryHttpError(init);
}

function isReplay(response: Response): boolean {
  return response.headers.get('idempotent-replayed') === 'true';
}
