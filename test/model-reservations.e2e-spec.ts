import fc from 'fast-check';
import type { Response } from 'supertest';
import { ISO_TIMESTAMP, UPDATES_PATH } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

/**
 * Model-based test of reservations beside stock updates: random sequences of single updates,
 * holds (1–3 lines, some naming one product twice, some short, some of unknown products, some
 * sent several times at once), commits (everything, fewer units, repeated, after a release, with
 * lines the reservation does not have), releases (also repeated, after a commit) and extensions
 * run against the real app, while a reference model written from the README's rules predicts
 * every answer — status, exact body, replay header — and, at the end of each run, every level,
 * every reservation and the ledger.
 *
 * Expiry is left out: whether a hold has run out depends on when the service decides, which the
 * model cannot know to the millisecond. Every hold lasts minutes, far longer than a run; the
 * flash-sale test covers expiry.
 */

const KEY_POOL_SIZE = 4;
const UNKNOWN_PRODUCT = -1;
const DEFAULT_TTL_SECONDS = 900;
const RESERVATIONS_PATH = '/v1/reservations';
const RESERVATION_ID = /^res_[A-Za-z0-9_-]{16}$/;

// ---------------------------------------------------------------------------------------------
// Generated descriptions of a run
// ---------------------------------------------------------------------------------------------

/** A new key, or one of a small pool shared by updates and holds, so that keys repeat and collide. */
type KeyChoice = number | 'fresh';

interface LineSpec {
  /** Index of a level of the run, or UNKNOWN_PRODUCT. */
  readonly product: number;
  readonly quantity: number;
}

type Op =
  /**
   * `delta` 'on hand' takes away everything on hand, held units included (a store writing off its
   * shelf), of a level with holds when there is one.
   */
  | { readonly kind: 'adjust'; readonly product: number; readonly delta: number | 'on hand'; readonly versionOffset: number; readonly key: KeyChoice }
  | {
      readonly kind: 'reserve';
      readonly lines: readonly LineSpec[];
      readonly ttlSeconds: number | undefined;
      readonly reference: string | null;
      readonly key: KeyChoice;
      readonly keyVia: 'field' | 'header';
      /** Sent this many times at once. */
      readonly copies: number;
    }
  /** `target` picks one of the run's reservations; `lines` picks some of its lines (or none: sell everything held). */
  | { readonly kind: 'commit'; readonly target: number; readonly lines: ReadonlyArray<{ readonly pick: number; readonly quantity: number }> | null; readonly foreign: boolean }
  | { readonly kind: 'release'; readonly target: number }
  | { readonly kind: 'extend'; readonly target: number; readonly ttlSeconds: number }
  | { readonly kind: 'missing'; readonly operation: 'commit' | 'release' | 'extend' }
  /** An earlier request sent again, verbatim. */
  | { readonly kind: 'repeat'; readonly index: number };

const keyChoice: fc.Arbitrary<KeyChoice> = fc.oneof({ weight: 3, arbitrary: fc.constant('fresh' as const) }, { weight: 2, arbitrary: fc.nat({ max: KEY_POOL_SIZE - 1 }) });

function opSpec(levelCount: number): fc.Arbitrary<Op> {
  const product = fc.oneof({ weight: 12, arbitrary: fc.nat({ max: levelCount - 1 }) }, { weight: 1, arbitrary: fc.constant(UNKNOWN_PRODUCT) });
  const line = fc.record({ product, quantity: fc.integer({ min: 1, max: 3 }) });
  const lines = fc
    .tuple(fc.array(line, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.integer({ min: 1, max: 2 }))
    // Some carts name one product twice: its lines are held as one.
    .map(([base, twice, quantity]) => (twice && base.length < 3 ? [...base, { product: base[0].product, quantity }] : base));
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('adjust' as const),
        product,
        delta: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: -6, max: 6 }).filter((delta) => delta !== 0) }, { weight: 1, arbitrary: fc.constant('on hand' as const) }),
        versionOffset: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1) }),
        key: keyChoice,
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('reserve' as const),
        lines,
        ttlSeconds: fc.constantFrom(undefined, 120, 3600),
        reference: fc.constantFrom(null, 'cart-a', 'cart-b'),
        key: keyChoice,
        keyVia: fc.constantFrom('field' as const, 'header' as const),
        copies: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('commit' as const),
        target: fc.nat(),
        lines: fc.option(fc.array(fc.record({ pick: fc.nat(), quantity: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 3 }), { freq: 2 }),
        foreign: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), target: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('extend' as const), target: fc.nat(), ttlSeconds: fc.constantFrom(120, 3600) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('repeat' as const), index: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('missing' as const), operation: fc.constantFrom('commit' as const, 'release' as const, 'extend' as const) }) },
  );
}

const scenario = fc
  .array(
    fc.record({
      quantity: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 3, arbitrary: fc.integer({ min: 5, max: 15 }) }),
      version: fc.integer({ min: 0, max: 5 }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .chain((levels) => fc.record({ levels: fc.constant(levels), ops: fc.array(opSpec(levels.length), { minLength: 1, maxLength: 30, size: 'max' }) }));

// ---------------------------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------------------------

interface LineQuantity {
  readonly productId: string;
  readonly quantity: number;
}

/** What a request asks for, as the model reads it. */
type Intent =
  | { readonly kind: 'adjust'; readonly productId: string; readonly delta: number; readonly version: number; readonly key: string }
  | { readonly kind: 'reserve'; readonly lines: readonly LineQuantity[]; readonly ttlSeconds?: number; readonly reference?: string; readonly key: string }
  | { readonly kind: 'commit'; readonly id: string; readonly lines?: readonly LineQuantity[] }
  | { readonly kind: 'release'; readonly id: string }
  | { readonly kind: 'extend'; readonly id: string; readonly ttlSeconds: number };

/** A request as sent, kept so that it can be sent again verbatim. */
interface SentRequest {
  readonly intent: Intent;
  readonly path: string;
  readonly body?: object;
  readonly headers: Record<string, string>;
}

interface ModelLevel {
  readonly quantity: number;
  readonly reserved: number;
  readonly version: number;
}

interface ModelLine {
  readonly productId: string;
  readonly quantity: number;
  readonly committed: number | null;
}

interface ModelReservation {
  readonly id: string;
  readonly status: 'active' | 'committed' | 'released';
  readonly lines: readonly ModelLine[];
  readonly reference: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string;
}

/** What the service stored for a key: the payload it identifies and the answer to replay. */
interface KeyRecord {
  readonly payload: string;
  readonly status: number;
  readonly text: string;
}

/**
 * The answer the model expects. `text` gets the parsed answer, to take what only the service
 * knows (a new reservation's id, the time of a change) after checking it, and gives the exact
 * text expected; `apply` then changes the model as the answer says.
 */
interface Prediction {
  readonly label: string;
  readonly status: number;
  readonly replayed: boolean;
  readonly text: (actual: Record<string, unknown>) => string;
  readonly apply?: (text: string) => void;
}

const TITLES: Record<string, string> = {
  LEVEL_NOT_FOUND: 'Stock level not found',
  INSUFFICIENT_AVAILABLE: 'Not enough available to hold',
  RESERVATION_NOT_ACTIVE: 'Reservation no longer active',
  RESERVATION_NOT_FOUND: 'Reservation not found',
  VALIDATION_FAILED: 'Request validation failed',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency key reused',
};

const typeOf = (code: string) => `/problems/${code.toLowerCase().replace(/_/g, '-')}`;

/** A problem decided in the update queue: the filter's shape, its extensions before requestId and instance. */
function decidedProblem(code: string, status: number, detail: string, instance: string, requestId: string, extensions: object = {}): string {
  return JSON.stringify({ type: typeOf(code), title: TITLES[code], status, detail, code, ...extensions, requestId, instance });
}

/** A problem from the HTTP layer's filter (requestId before instance). */
function filteredProblem(code: string, status: number, detail: string, instance: string, requestId: string): string {
  return JSON.stringify({ type: typeOf(code), title: TITLES[code], status, detail, code, requestId, instance });
}

/** Lines of one product added up, ordered by product id. */
function sumLines(lines: readonly LineQuantity[]): LineQuantity[] {
  const sums = new Map<string, number>();
  for (const { productId, quantity } of lines) {
    sums.set(productId, (sums.get(productId) ?? 0) + quantity);
  }
  return [...sums].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => (a.productId < b.productId ? -1 : 1));
}

function fail(message: string): never {
  throw new Error(message);
}

function isoAt(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
    fail(`${what} is not an ISO timestamp: ${JSON.stringify(value)}`);
  }
  return value;
}

const plusSeconds = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

class Model {
  readonly levels = new Map<string, ModelLevel>();
  readonly keys = new Map<string, KeyRecord>();
  readonly reservations: ModelReservation[] = [];

  constructor(readonly storeId: string) {}

  reservation(id: string): ModelReservation | undefined {
    return this.reservations.find((reservation) => reservation.id === id);
  }

  render(reservation: ModelReservation): string {
    return JSON.stringify({
      reservationId: reservation.id,
      storeId: this.storeId,
      status: reservation.status,
      expiresAt: reservation.expiresAt,
      lines: reservation.lines.map(({ productId, quantity, committed }) => ({ productId, quantity, ...(committed === null ? {} : { committed }) })),
      reference: reservation.reference,
      createdAt: reservation.createdAt,
      updatedAt: reservation.updatedAt,
    });
  }

  predict(intent: Intent, requestId: string): Prediction {
    switch (intent.kind) {
      case 'adjust':
        return this.adjust(intent, requestId);
      case 'reserve':
        return this.reserve(intent, requestId);
      case 'commit':
        return this.commit(intent, requestId);
      case 'release':
        return this.release(intent, requestId);
      case 'extend':
        return this.extend(intent, requestId);
    }
  }

  /** A replay, a key reuse, or undefined when the key is new. */
  private keyed(key: string, payload: string, path: string, requestId: string, label: string): Prediction | undefined {
    const record = this.keys.get(key);
    if (record === undefined) {
      return undefined;
    }
    if (record.payload === payload) {
      return { label: `${label} replayed`, status: record.status, replayed: true, text: () => record.text };
    }
    const detail = 'this idempotency key was already used with a different request payload';
    return { label: `${label} key reused`, status: 422, replayed: false, text: () => filteredProblem('IDEMPOTENCY_KEY_REUSED', 422, detail, path, requestId) };
  }

  private remember(key: string, payload: string, status: number): (text: string) => void {
    return (text) => this.keys.set(key, { payload, status, text });
  }

  private adjust({ productId, delta, version, key }: Extract<Intent, { kind: 'adjust' }>, requestId: string): Prediction {
    const payload = JSON.stringify({ update: { storeId: this.storeId, productId, delta, version } });
    const replay = this.keyed(key, payload, UPDATES_PATH, requestId, 'adjust');
    if (replay !== undefined) {
      return replay;
    }
    const level = this.levels.get(productId);
    const decided = (label: string, status: number, body: object): Prediction => ({ label, status, replayed: false, text: () => JSON.stringify(body), apply: this.remember(key, payload, status) });
    if (level === undefined) {
      return decided('adjust level missing', 404, { productId, applied: false, error: `no stock level for product ${productId} in store ${this.storeId}`, code: 'LEVEL_NOT_FOUND' });
    }
    if (level.version !== version) {
      return decided('adjust version conflict', 409, {
        productId,
        applied: false,
        error: `version conflict: expected ${level.version}, got ${version}`,
        code: 'VERSION_CONFLICT',
        currentVersion: level.version,
      });
    }
    const available = level.quantity - level.reserved;
    if (delta < 0 && -delta > available) {
      // Held units are promised: a decrease may take only what is available.
      return decided(-delta <= level.quantity ? 'adjust insufficient because of holds' : 'adjust insufficient', 409, {
        productId,
        applied: false,
        error: `insufficient stock: available ${available}, requested ${-delta}`,
        code: 'INSUFFICIENT_STOCK',
        currentVersion: level.version,
        currentQuantity: level.quantity,
        available,
      });
    }
    const next = { ...level, quantity: level.quantity + delta, version: level.version + 1 };
    const remember = this.remember(key, payload, 200);
    return {
      label: level.reserved > 0 ? 'adjust applied beside holds' : 'adjust applied',
      status: 200,
      replayed: false,
      text: (actual) =>
        JSON.stringify({ productId, newQuantity: next.quantity, newVersion: next.version, applied: true, lastUpdated: isoAt(actual.lastUpdated, 'lastUpdated') }),
      apply: (text) => {
        this.levels.set(productId, next);
        remember(text);
      },
    };
  }

  private reserve({ lines, ttlSeconds, reference, key }: Extract<Intent, { kind: 'reserve' }>, requestId: string): Prediction {
    const summed = sumLines(lines);
    // The key names the cart as sent, its lines added up.
    const payload = JSON.stringify({ reserve: { storeId: this.storeId, lines: summed, ttlSeconds: ttlSeconds ?? null, reference: reference ?? null } });
    const replay = this.keyed(key, payload, RESERVATIONS_PATH, requestId, 'reserve');
    if (replay !== undefined) {
      return replay;
    }
    const decided = (label: string, status: number, text: string): Prediction => ({ label, status, replayed: false, text: () => text, apply: this.remember(key, payload, status) });
    const missing = summed.filter((line) => !this.levels.has(line.productId)).map((line) => line.productId);
    if (missing.length > 0) {
      const detail = `no stock level for ${missing.join(', ')} in this store; nothing was held`;
      return decided('reserve level missing', 404, decidedProblem('LEVEL_NOT_FOUND', 404, detail, RESERVATIONS_PATH, requestId, { productIds: missing }));
    }
    // All or none, each product's lines together against what is available.
    const short = summed.flatMap(({ productId, quantity }) => {
      const level = this.levels.get(productId)!;
      const available = level.quantity - level.reserved;
      return quantity > available ? [{ productId, requested: quantity, available }] : [];
    });
    if (short.length > 0) {
      const detail = `not enough available for ${short.map((line) => `${line.productId} (requested ${line.requested}, available ${line.available})`).join(', ')}; nothing was held`;
      return decided('reserve short', 409, decidedProblem('INSUFFICIENT_AVAILABLE', 409, detail, RESERVATIONS_PATH, requestId, { lines: short }));
    }
    let held: ModelReservation | undefined;
    const remember = this.remember(key, payload, 201);
    return {
      label: summed.length < lines.length ? 'reserve held, lines added up' : 'reserve held',
      status: 201,
      replayed: false,
      text: (actual) => {
        const id = actual.reservationId;
        if (typeof id !== 'string' || !RESERVATION_ID.test(id) || this.reservation(id) !== undefined) {
          fail(`not a new reservation id: ${JSON.stringify(id)}`);
        }
        const createdAt = isoAt(actual.createdAt, 'createdAt');
        held = {
          id,
          status: 'active',
          lines: summed.map((line) => ({ ...line, committed: null })),
          reference: reference ?? null,
          createdAt,
          updatedAt: createdAt,
          expiresAt: plusSeconds(createdAt, ttlSeconds ?? DEFAULT_TTL_SECONDS),
        };
        return this.render(held);
      },
      apply: (text) => {
        for (const { productId, quantity } of summed) {
          const level = this.levels.get(productId)!;
          this.levels.set(productId, { ...level, reserved: level.reserved + quantity, version: level.version + 1 });
        }
        this.reservations.push(held!);
        remember(text);
      },
    };
  }

  private notActive(reservation: ModelReservation, operation: 'commit' | 'release' | 'extend', requestId: string, label: string): Prediction {
    const verb = operation === 'commit' ? 'committed' : operation === 'release' ? 'released' : 'extended';
    const detail = `reservation ${reservation.id} is ${reservation.status}: it cannot be ${verb}`;
    const text = decidedProblem('RESERVATION_NOT_ACTIVE', 409, detail, `${RESERVATIONS_PATH}/${reservation.id}/${operation}`, requestId, { reservationStatus: reservation.status });
    return { label, status: 409, replayed: false, text: () => text };
  }

  private missingReservation(id: string, operation: string, requestId: string): Prediction {
    const text = filteredProblem('RESERVATION_NOT_FOUND', 404, `no reservation ${id}`, `${RESERVATIONS_PATH}/${id}/${operation}`, requestId);
    return { label: 'reservation missing', status: 404, replayed: false, text: () => text };
  }

  /** The reservation as it is: a repeated commit or release. */
  private asItIs(reservation: ModelReservation, label: string): Prediction {
    return { label, status: 200, replayed: false, text: () => this.render(reservation) };
  }

  /** A change of `reservation` answered with it in its new state, at the time the service tells. */
  private changed(reservation: ModelReservation, label: string, next: (updatedAt: string) => ModelReservation, levels: (levels: Map<string, ModelLevel>) => void): Prediction {
    let after: ModelReservation | undefined;
    return {
      label,
      status: 200,
      replayed: false,
      text: (actual) => {
        const updatedAt = isoAt(actual.updatedAt, 'updatedAt');
        if (updatedAt < reservation.updatedAt) {
          fail(`updatedAt ${updatedAt} before the last change ${reservation.updatedAt}`);
        }
        after = next(updatedAt);
        return this.render(after);
      },
      apply: () => {
        levels(this.levels);
        this.reservations[this.reservations.indexOf(reservation)] = after!;
      },
    };
  }

  private commit({ id, lines }: Extract<Intent, { kind: 'commit' }>, requestId: string): Prediction {
    const reservation = this.reservation(id);
    if (reservation === undefined) {
      return this.missingReservation(id, 'commit', requestId);
    }
    const wanted = lines === undefined ? undefined : sumLines(lines);
    const units = (productId: string, from: readonly LineQuantity[]) => from.find((line) => line.productId === productId)?.quantity ?? 0;
    if (reservation.status === 'committed') {
      // The same commit again answers as before; another one is refused.
      const committed = reservation.lines.map((line) => ({ productId: line.productId, quantity: line.committed ?? 0 }));
      const products = new Set([...committed, ...(wanted ?? [])].map((line) => line.productId));
      const same = wanted === undefined || [...products].every((productId) => units(productId, committed) === units(productId, wanted));
      return same ? this.asItIs(reservation, 'commit repeated') : this.notActive(reservation, 'commit', requestId, 'commit of another commit refused');
    }
    if (reservation.status === 'released') {
      return this.notActive(reservation, 'commit', requestId, 'commit after release refused');
    }
    const errors = (wanted ?? []).flatMap((line, index) => {
      const own = reservation.lines.find((candidate) => candidate.productId === line.productId);
      if (own === undefined) {
        return [{ field: `lines[${index}].productId`, issue: 'is not a line of this reservation' }];
      }
      return line.quantity > own.quantity ? [{ field: `lines[${index}].quantity`, issue: `is more than the ${own.quantity} units held` }] : [];
    });
    if (errors.length > 0) {
      const detail = `invalid request: ${errors.map((error) => error.field).join(', ')}`;
      const text = decidedProblem('VALIDATION_FAILED', 400, detail, `${RESERVATIONS_PATH}/${id}/commit`, requestId, { errors });
      return { label: 'commit with lines not held refused', status: 400, replayed: false, text: () => text };
    }
    // A product left out sells none; what is not sold goes back.
    const sold = reservation.lines.map((line) => (wanted === undefined ? line.quantity : units(line.productId, wanted)));
    const partial = sold.some((count, index) => count < reservation.lines[index].quantity);
    return this.changed(
      reservation,
      partial ? 'commit of fewer units' : 'commit of everything held',
      (updatedAt) => ({ ...reservation, status: 'committed', updatedAt, lines: reservation.lines.map((line, index) => ({ ...line, committed: sold[index] })) }),
      (levels) =>
        reservation.lines.forEach((line, index) => {
          const level = levels.get(line.productId)!;
          levels.set(line.productId, { quantity: level.quantity - sold[index], reserved: level.reserved - line.quantity, version: level.version + 1 });
        }),
    );
  }

  private release({ id }: Extract<Intent, { kind: 'release' }>, requestId: string): Prediction {
    const reservation = this.reservation(id);
    if (reservation === undefined) {
      return this.missingReservation(id, 'release', requestId);
    }
    if (reservation.status === 'committed') {
      return this.notActive(reservation, 'release', requestId, 'release after commit refused');
    }
    if (reservation.status === 'released') {
      return this.asItIs(reservation, 'release repeated');
    }
    return this.changed(
      reservation,
      'release',
      (updatedAt) => ({ ...reservation, status: 'released', updatedAt }),
      (levels) =>
        reservation.lines.forEach((line) => {
          const level = levels.get(line.productId)!;
          levels.set(line.productId, { ...level, reserved: level.reserved - line.quantity, version: level.version + 1 });
        }),
    );
  }

  private extend({ id, ttlSeconds }: Extract<Intent, { kind: 'extend' }>, requestId: string): Prediction {
    const reservation = this.reservation(id);
    if (reservation === undefined) {
      return this.missingReservation(id, 'extend', requestId);
    }
    if (reservation.status !== 'active') {
      return this.notActive(reservation, 'extend', requestId, 'extension of a finished reservation refused');
    }
    return this.changed(
      reservation,
      'extend',
      (updatedAt) => ({ ...reservation, updatedAt, expiresAt: plusSeconds(updatedAt, ttlSeconds) }),
      (levels) =>
        reservation.lines.forEach((line) => {
          const level = levels.get(line.productId)!;
          levels.set(line.productId, { ...level, version: level.version + 1 });
        }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

/** Outcomes every campaign must reach, so that a generator that stopped producing them fails. */
const REQUIRED_OUTCOMES = [
  'adjust applied beside holds',
  'adjust insufficient because of holds',
  'adjust version conflict',
  'reserve held',
  'reserve held, lines added up',
  'reserve short',
  'reserve level missing',
  'reserve replayed',
  'reserve key reused',
  'commit of everything held',
  'commit of fewer units',
  'commit repeated',
  'commit of another commit refused',
  'commit after release refused',
  'commit with lines not held refused',
  'release',
  'release repeated',
  'release after commit refused',
  'extend',
  'extension of a finished reservation refused',
  'reservation missing',
];

describe('model-based: reservations and updates against a reference model', () => {
  let app: TestApp;
  let runs = 0;
  const outcomes = new Map<string, number>();

  beforeAll(async () => {
    // Each run sends requests back to back from one key; its rate is not what is tested here.
    app = await startApp({ env: { RATE_LIMIT_PER_SECOND: '0' } });
  });

  afterAll(async () => {
    await app?.close();
  });

  async function runScenario({ levels, ops }: { levels: ReadonlyArray<{ quantity: number; version: number }>; ops: readonly Op[] }): Promise<void> {
    runs += 1;
    const run = runs;
    const storeId = `mres-${run}`;
    const productIds = levels.map((_level, index) => `P${index}`);
    const productOf = (index: number) => (index === UNKNOWN_PRODUCT ? 'missing' : productIds[index]);
    let freshKeys = 0;
    let requests = 0;
    const keyOf = (key: KeyChoice) => (key === 'fresh' ? `run${run} fresh#${(freshKeys += 1)}` : `run${run} key#${key}`);
    const model = new Model(storeId);
    const history: SentRequest[] = [];
    const log: string[] = [];
    const context = () => `run ${run} (store ${storeId}), after:\n    ${log.join('\n    ')}`;
    const check = (condition: boolean, message: string) => condition || fail(`${message}\n  while: ${context()}`);

    await app.connection.db
      .insertInto('stock_levels')
      .values(levels.map((level, index) => ({ store_id: storeId, product_id: productIds[index], quantity: level.quantity, version: level.version, last_updated: new Date().toISOString() })))
      .execute();
    levels.forEach((level, index) => model.levels.set(productIds[index], { quantity: level.quantity, reserved: 0, version: level.version }));

    async function send(request: SentRequest): Promise<{ response: Response; requestId: string }> {
      const requestId = `run${run}-${(requests += 1)}`;
      const sending = app.http().post(request.path).set('X-API-Key', 'demo').set('X-Request-Id', requestId).set(request.headers);
      return { response: await (request.body === undefined ? sending : sending.send(request.body)), requestId };
    }

    function expectAnswer(prediction: Prediction, response: Response, requestId: string): void {
      const what = `${prediction.label} (${requestId})`;
      check(response.status === prediction.status, `${what}: status ${response.status}, expected ${prediction.status}: ${response.text}`);
      const actual = (response.text.startsWith('{') ? JSON.parse(response.text) : {}) as Record<string, unknown>;
      let expected: string;
      try {
        expected = prediction.text(actual);
      } catch (error) {
        fail(`${what}: ${(error as Error).message}: ${response.text}\n  while: ${context()}`);
      }
      check(response.text === expected, `${what}: body\n    ${response.text}\n  expected\n    ${expected}`);
      const replayed = response.headers['idempotent-replayed'];
      check(replayed === (prediction.replayed ? 'true' : undefined), `${what}: Idempotent-Replayed ${String(replayed)}`);
      // Update results keep their own JSON shape; everything else that fails is a problem.
      const problem = expected.startsWith('{"type":');
      check(String(response.headers['content-type']).startsWith(problem ? 'application/problem+json' : 'application/json'), `${what}: content type ${String(response.headers['content-type'])}`);
      if (response.status === 201) {
        check(response.headers.location === `${RESERVATIONS_PATH}/${actual.reservationId as string}`, `${what}: Location ${String(response.headers.location)}`);
      }
      outcomes.set(prediction.label, (outcomes.get(prediction.label) ?? 0) + 1);
    }

    function requestOf(op: Exclude<Op, { kind: 'repeat' }>): SentRequest | undefined {
      const target = (index: number) => (model.reservations.length === 0 ? undefined : model.reservations[index % model.reservations.length]);
      switch (op.kind) {
        case 'adjust': {
          const holding = [...model.levels].find(([, level]) => level.reserved > 0)?.[0];
          const productId = op.delta === 'on hand' && holding !== undefined ? holding : productOf(op.product);
          const level = model.levels.get(productId);
          const version = Math.max(0, (level?.version ?? 0) + op.versionOffset);
          const delta = op.delta === 'on hand' ? -Math.max(1, level?.quantity ?? 1) : op.delta;
          const key = keyOf(op.key);
          return { intent: { kind: 'adjust', productId, delta, version, key }, path: UPDATES_PATH, body: { storeId, productId, delta, version, idempotencyKey: key }, headers: {} };
        }
        case 'reserve': {
          const lines = op.lines.map((line) => ({ productId: productOf(line.product), quantity: line.quantity }));
          const key = keyOf(op.key);
          const body = {
            storeId,
            lines,
            ...(op.ttlSeconds === undefined ? {} : { ttlSeconds: op.ttlSeconds }),
            ...(op.reference === null ? {} : { reference: op.reference }),
            ...(op.keyVia === 'field' ? { idempotencyKey: key } : {}),
          };
          const intent = { kind: 'reserve' as const, lines, key, ...(op.ttlSeconds === undefined ? {} : { ttlSeconds: op.ttlSeconds }), ...(op.reference === null ? {} : { reference: op.reference }) };
          return { intent, path: RESERVATIONS_PATH, body, headers: op.keyVia === 'header' ? { 'Idempotency-Key': key } : {} };
        }
        case 'commit': {
          const reservation = target(op.target);
          if (reservation === undefined) {
            return undefined;
          }
          const path = `${RESERVATIONS_PATH}/${reservation.id}/commit`;
          if (op.lines === null) {
            return { intent: { kind: 'commit', id: reservation.id }, path, body: {}, headers: {} };
          }
          const chosen = new Map(op.lines.map(({ pick, quantity }) => [reservation.lines[pick % reservation.lines.length].productId, quantity]));
          if (op.foreign) {
            chosen.set([...productIds, 'missing'].find((productId) => !reservation.lines.some((line) => line.productId === productId)) ?? 'missing', 1);
          }
          // One line per product, in product order: the service names an invalid line by its index
          // among the lines added up and sorted by product, which is then the index sent.
          const lines = [...chosen].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => (a.productId < b.productId ? -1 : 1));
          return { intent: { kind: 'commit', id: reservation.id, lines }, path, body: { lines }, headers: {} };
        }
        case 'release': {
          const reservation = target(op.target);
          // A release takes no body.
          return reservation === undefined ? undefined : { intent: { kind: 'release', id: reservation.id }, path: `${RESERVATIONS_PATH}/${reservation.id}/release`, headers: {} };
        }
        case 'extend': {
          const reservation = target(op.target);
          return reservation === undefined
            ? undefined
            : { intent: { kind: 'extend', id: reservation.id, ttlSeconds: op.ttlSeconds }, path: `${RESERVATIONS_PATH}/${reservation.id}/extend`, body: { ttlSeconds: op.ttlSeconds }, headers: {} };
        }
        case 'missing': {
          const id = 'res_AAAAAAAAAAAAAAAA';
          const path = `${RESERVATIONS_PATH}/${id}/${op.operation}`;
          switch (op.operation) {
            case 'commit':
              return { intent: { kind: 'commit', id }, path, body: {}, headers: {} };
            case 'release':
              return { intent: { kind: 'release', id }, path, headers: {} };
            case 'extend':
              return { intent: { kind: 'extend', id, ttlSeconds: 120 }, path, body: { ttlSeconds: 120 }, headers: {} };
          }
        }
      }
    }

    for (const op of ops) {
      const request = op.kind === 'repeat' ? history[op.index % Math.max(1, history.length)] : requestOf(op);
      if (request === undefined) {
        continue;
      }
      history.push(request);
      const sent = `${op.kind === 'repeat' ? 'repeat ' : ''}POST ${request.path} ${JSON.stringify(request.body ?? null)} ${JSON.stringify(request.headers)}`;
      const copies = op.kind === 'reserve' ? op.copies : 1;
      const answers = await Promise.all(Array.from({ length: copies }, () => send(request)));
      log.push(`${sent} x${copies} -> ${answers.map(({ response }) => `${response.status} ${response.text}`).join(' | ')}`);

      // One copy is decided as the model predicts; the others are replays of its answer (a key
      // reuse is refused for each copy alike).
      const first = answers.find(({ response }) => response.headers['idempotent-replayed'] === undefined) ?? answers[0];
      const prediction = model.predict(request.intent, first.requestId);
      expectAnswer(prediction, first.response, first.requestId);
      for (const copy of answers.filter((answer) => answer !== first)) {
        if (prediction.status === 422) {
          expectAnswer(model.predict(request.intent, copy.requestId), copy.response, copy.requestId);
        } else {
          check(copy.response.status === first.response.status && copy.response.text === first.response.text, `copy ${copy.requestId} answered otherwise`);
          check(copy.response.headers['idempotent-replayed'] === 'true', `copy ${copy.requestId} not marked as a replay`);
        }
      }
      prediction.apply?.(first.response.text);
    }

    // Every level, reservation and ledger entry ends as the model says.
    for (const [productId, level] of model.levels) {
      const response = await app.http().get(`/v1/stores/${storeId}/inventory/${productId}`).set('X-API-Key', 'demo');
      const { quantity, reserved, available, version } = response.body as Record<string, unknown>;
      const expected = { quantity: level.quantity, reserved: level.reserved, available: level.quantity - level.reserved, version: level.version };
      check(JSON.stringify({ quantity, reserved, available, version }) === JSON.stringify(expected), `level ${productId}: ${response.text}, expected ${JSON.stringify(expected)}`);
    }
    for (const reservation of model.reservations) {
      const response = await app.http().get(`${RESERVATIONS_PATH}/${reservation.id}`).set('X-API-Key', 'demo');
      check(response.status === 200 && response.text === model.render(reservation), `GET ${reservation.id}: ${response.status} ${response.text}\n  expected ${model.render(reservation)}`);
    }
    const ledger = await app.connection.db.selectFrom('ledger').selectAll().where('store_id', '=', storeId).orderBy('seq').execute();
    levels.forEach((initial, index) => {
      const productId = productIds[index];
      const entries = ledger.filter((entry) => entry.product_id === productId);
      const final = model.levels.get(productId)!;
      const versions = entries.map((entry) => entry.version_after);
      check(JSON.stringify(versions) === JSON.stringify(versions.map((_, at) => initial.version + 1 + at)) && entries.length === final.version - initial.version, `ledger of ${productId}: versions ${JSON.stringify(versions)}, level at ${final.version}`);
      const last = entries.at(-1) ?? { quantity_after: initial.quantity, reserved_after: 0 };
      check(last.quantity_after === final.quantity && last.reserved_after === final.reserved, `ledger of ${productId} ends at ${JSON.stringify(last)}, level ${JSON.stringify(final)}`);
    });
  }

  it('answers every request as the model predicts, and ends with the model’s levels, reservations and ledger', async () => {
    await fc.assert(fc.asyncProperty(scenario, runScenario), { numRuns: 80 });
    // The campaign reached every rule it is meant to check.
    expect(REQUIRED_OUTCOMES.filter((label) => !outcomes.has(label))).toEqual([]);
  }, 300_000);
});
