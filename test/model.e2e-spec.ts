import fc from 'fast-check';
import type { Response } from 'supertest';
import { ISO_TIMESTAMP, postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

/**
 * Model-based test of the update endpoint: random sequences of single updates, batches (atomic
 * or not), retries, key reuse and unknown products run against the real app, while a small
 * reference model written from the README predicts every answer — status, exact body (but for
 * `lastUpdated`), replay header and batch summary — and, at the end of each run, every level.
 */

const MAX = Number.MAX_SAFE_INTEGER;
const MAX_QUANTITY = 10_000_000_000;
const KEY_POOL_SIZE = 5;
const UNKNOWN_PRODUCT = -1;

// ---------------------------------------------------------------------------------------------
// Generated descriptions of a run
// ---------------------------------------------------------------------------------------------

interface LevelSpec {
  readonly quantity: number;
  readonly version: number;
}

/** The version sent: the level's current one as the model knows it, or off by `offset`. */
type VersionChoice = { readonly kind: 'current' } | { readonly kind: 'offset'; readonly offset: number };

interface ItemSpec {
  /** Index of a level of the run, or UNKNOWN_PRODUCT. */
  readonly product: number;
  readonly delta: number;
  readonly version: VersionChoice;
  /** A new key, or one of a small pool of the run's keys, so that keys repeat across requests. */
  readonly key: number | 'fresh';
}

type KeyVia = 'field' | 'header' | 'both';

type Op =
  | { readonly kind: 'single'; readonly item: ItemSpec; readonly keyVia: KeyVia }
  | { readonly kind: 'batch'; readonly atomic: boolean; readonly items: readonly ItemSpec[] }
  | { readonly kind: 'repeat'; readonly index: number }
  /** The same single update sent `copies` times at once: one answer, given once and replayed to the rest. */
  | { readonly kind: 'burst'; readonly item: ItemSpec; readonly keyVia: KeyVia; readonly copies: number };

const levelSpec: fc.Arbitrary<LevelSpec> = fc.record({
  quantity: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.integer({ min: MAX_QUANTITY - 6, max: MAX_QUANTITY }) }),
  version: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.integer({ min: MAX - 2, max: MAX }) }),
});

function itemSpec(levelCount: number): fc.Arbitrary<ItemSpec> {
  return fc.record({
    product: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: levelCount - 1 }) }, { weight: 1, arbitrary: fc.constant(UNKNOWN_PRODUCT) }),
    delta: fc.integer({ min: -6, max: 6 }).filter((delta) => delta !== 0),
    version: fc.oneof(
      { weight: 3, arbitrary: fc.constant<VersionChoice>({ kind: 'current' }) },
      { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }).filter((offset) => offset !== 0).map((offset): VersionChoice => ({ kind: 'offset', offset })) },
    ),
    key: fc.oneof({ weight: 3, arbitrary: fc.constant('fresh' as const) }, { weight: 2, arbitrary: fc.nat({ max: KEY_POOL_SIZE - 1 }) }),
  });
}

/** Keys are unique within a batch: a pooled key seen earlier in the batch becomes a fresh one. */
function uniqueKeys(items: readonly ItemSpec[]): ItemSpec[] {
  const seen = new Set<number>();
  return items.map((item) => {
    if (item.key === 'fresh') {
      return item;
    }
    if (seen.has(item.key)) {
      return { ...item, key: 'fresh' };
    }
    seen.add(item.key);
    return item;
  });
}

function opSpec(levelCount: number): fc.Arbitrary<Op> {
  const item = itemSpec(levelCount);
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('single' as const), item, keyVia: fc.constantFrom<KeyVia>('field', 'header', 'both') }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('batch' as const),
        atomic: fc.boolean(),
        items: fc.array(item, { minLength: 1, maxLength: 4 }).map(uniqueKeys),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('repeat' as const), index: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('burst' as const), item, keyVia: fc.constantFrom<KeyVia>('field', 'header', 'both'), copies: fc.integer({ min: 2, max: 4 }) }),
    },
  );
}

const scenario = fc
  .array(levelSpec, { minLength: 1, maxLength: 4 })
  .chain((levels) => fc.record({ levels: fc.constant(levels), ops: fc.array(opSpec(levels.length), { minLength: 1, maxLength: 25, size: 'max' }) }));

// ---------------------------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------------------------

interface Command {
  readonly storeId: string;
  readonly productId: string;
  readonly delta: number;
  readonly version: number;
  readonly key: string;
}

interface ModelLevel {
  readonly quantity: number;
  readonly version: number;
  readonly lastUpdated: string;
}

/** What the service stored for a key: the payload it identifies and the answer to replay. */
interface KeyRecord {
  readonly command: Command;
  readonly status: number;
  readonly body: string;
}

/** A request as sent, kept so that it can be sent again verbatim. */
type SentRequest =
  | { readonly kind: 'single'; readonly command: Command; readonly body: object; readonly headers: Record<string, string> }
  | { readonly kind: 'batch'; readonly storeId: string; readonly atomic: boolean; readonly commands: readonly Command[]; readonly body: object };

/**
 * What the model predicts for one update. `executed` carries the exact body but for
 * `lastUpdated`, which only the service knows: an applied body is rebuilt with the one it sent.
 */
type Prediction =
  | { readonly kind: 'replayed'; readonly record: KeyRecord }
  | { readonly kind: 'key-reused' }
  | { readonly kind: 'executed'; readonly status: number; readonly body: Record<string, unknown>; readonly next?: { quantity: number; version: number } };

function samePayload(a: Command, b: Command): boolean {
  return a.storeId === b.storeId && a.productId === b.productId && a.delta === b.delta && a.version === b.version;
}

class Model {
  readonly levels = new Map<string, ModelLevel>();
  readonly keys = new Map<string, KeyRecord>();

  /** Decides one update against `levels` (the committed ones, or a batch's pending view). */
  predict(command: Command, levels: ReadonlyMap<string, { quantity: number; version: number }>): Prediction {
    const record = this.keys.get(command.key);
    if (record !== undefined) {
      return samePayload(record.command, command) ? { kind: 'replayed', record } : { kind: 'key-reused' };
    }
    const { storeId, productId, delta, version } = command;
    const level = levels.get(productId);
    if (level === undefined) {
      return {
        kind: 'executed',
        status: 404,
        body: { productId, applied: false, error: `no stock level for product ${productId} in store ${storeId}`, code: 'LEVEL_NOT_FOUND' },
      };
    }
    if (level.version !== version) {
      return {
        kind: 'executed',
        status: 409,
        body: { productId, applied: false, error: `version conflict: expected ${level.version}, got ${version}`, code: 'VERSION_CONFLICT', currentVersion: level.version },
      };
    }
    const quantity = level.quantity + delta;
    if (quantity < 0) {
      return {
        kind: 'executed',
        status: 409,
        body: {
          productId,
          applied: false,
          error: `insufficient stock: available ${level.quantity}, requested ${-delta}`,
          code: 'INSUFFICIENT_STOCK',
          currentVersion: level.version,
          currentQuantity: level.quantity,
          // Nothing is reserved in these runs: all that is on hand is available.
          available: level.quantity,
        },
      };
    }
    if (quantity > MAX_QUANTITY || level.version >= MAX) {
      return {
        kind: 'executed',
        status: 409,
        body: {
          productId,
          applied: false,
          error: `quantity limit exceeded: ${level.quantity} + ${delta} is beyond ${MAX_QUANTITY}`,
          code: 'QUANTITY_LIMIT_EXCEEDED',
          currentVersion: level.version,
          currentQuantity: level.quantity,
        },
      };
    }
    const next = { quantity, version: level.version + 1 };
    return { kind: 'executed', status: 200, body: { productId, newQuantity: next.quantity, newVersion: next.version, applied: true }, next };
  }
}

function applied(prediction: Prediction): boolean {
  return prediction.kind === 'executed' ? prediction.next !== undefined : prediction.kind === 'replayed' && prediction.record.status === 200;
}

// ---------------------------------------------------------------------------------------------
// Checking an answer against a prediction
// ---------------------------------------------------------------------------------------------

function fail(message: string, context: string): never {
  throw new Error(`${message}\n  while: ${context}`);
}

function expectEqual(actual: unknown, expected: unknown, what: string, context: string): void {
  if (actual !== expected) {
    fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`, context);
  }
}

/**
 * The exact text the service must have sent for an executed update: the predicted body with,
 * for an applied one, the `lastUpdated` it answered (checked to be an ISO timestamp).
 */
function expectedExecutedText(prediction: Extract<Prediction, { kind: 'executed' }>, actual: unknown, context: string): string {
  if (prediction.next === undefined) {
    return JSON.stringify(prediction.body);
  }
  const lastUpdated = (actual as { lastUpdated?: unknown } | null)?.lastUpdated;
  if (typeof lastUpdated !== 'string' || !ISO_TIMESTAMP.test(lastUpdated) || Number.isNaN(Date.parse(lastUpdated))) {
    fail(`applied update without an ISO lastUpdated: ${JSON.stringify(actual)}`, context);
  }
  return JSON.stringify({ ...prediction.body, lastUpdated });
}

const KEY_REUSED_ITEM = (productId: string) =>
  JSON.stringify({ productId, applied: false, error: 'idempotency key already used with a different payload', code: 'IDEMPOTENCY_KEY_REUSED' });
const BATCH_ABORTED_ITEM = (productId: string) =>
  JSON.stringify({ productId, applied: false, error: 'not applied: another update in the atomic batch failed', code: 'BATCH_ABORTED' });

function replayedHeader(response: Response): unknown {
  return response.headers['idempotent-replayed'];
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

describe('model-based: updates, batches and idempotency against a reference model', () => {
  let app: TestApp;
  let runs = 0;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app?.close();
  });

  async function runScenario({ levels, ops }: { levels: readonly LevelSpec[]; ops: readonly Op[] }): Promise<void> {
    runs += 1;
    const run = runs;
    const storeId = `model-${run}`;
    const productIds = levels.map((_level, index) => `P${index}`);
    let freshKeys = 0;
    const keyOf = (key: number | 'fresh') => (key === 'fresh' ? `run${run} fresh#${(freshKeys += 1)}` : `run${run} key#${key}`);
    const model = new Model();
    const history: SentRequest[] = [];
    const log: string[] = [];
    const context = () => `run ${run} (store ${storeId}), after:\n    ${log.join('\n    ')}`;

    const createdAt = new Date().toISOString();
    await app.connection.db
      .insertInto('stock_levels')
      .values(levels.map((level, index) => ({ store_id: storeId, product_id: productIds[index], quantity: level.quantity, version: level.version, last_updated: createdAt })))
      .execute();
    levels.forEach((level, index) => model.levels.set(productIds[index], { ...level, lastUpdated: createdAt }));

    const commandOf = (spec: ItemSpec): Command => {
      const productId = spec.product === UNKNOWN_PRODUCT ? 'missing' : productIds[spec.product];
      const current = model.levels.get(productId)?.version ?? 0;
      let version = current;
      if (spec.version.kind === 'offset') {
        version = current + spec.version.offset;
        if (version < 0 || version > MAX) {
          version = current - spec.version.offset;
        }
      }
      return { storeId, productId, delta: spec.delta, version, key: keyOf(spec.key) };
    };

    for (const op of ops) {
      let request: SentRequest;
      if (op.kind === 'repeat') {
        if (history.length === 0) {
          continue;
        }
        request = history[op.index % history.length];
      } else if (op.kind === 'single' || op.kind === 'burst') {
        const command = commandOf(op.item);
        const { key, ...payload } = command;
        const body = op.keyVia === 'header' ? payload : { ...payload, idempotencyKey: key };
        const headers: Record<string, string> = op.keyVia === 'field' ? {} : { 'Idempotency-Key': key };
        request = { kind: 'single', command, body, headers };
      } else {
        const commands = op.items.map(commandOf);
        const updates = commands.map(({ productId, delta, version, key }) => ({ productId, delta, version, idempotencyKey: key }));
        request = { kind: 'batch', storeId, atomic: op.atomic, commands, body: op.atomic ? { storeId, atomic: true, updates } : { storeId, updates } };
      }
      history.push(request);
      const sent = `${op.kind === 'repeat' ? 'repeat ' : ''}${JSON.stringify(request.body)}${request.kind === 'single' ? ` ${JSON.stringify(request.headers)}` : ''}`;

      if (op.kind === 'burst' && request.kind === 'single') {
        const { body, headers } = request;
        const responses = await Promise.all(Array.from({ length: op.copies }, () => postUpdate(app, body, 'demo', headers)));
        log.push(`burst x${op.copies} ${sent} -> ${responses.map((response) => `${response.status} ${response.text}`).join(' | ')}`);
        const prediction = model.predict(request.command, model.levels);
        // The first to be decided answers afresh (if the key is new); every copy gets the same bytes.
        const first = responses.find((response) => replayedHeader(response) === undefined) ?? responses[0];
        checkSingle(model, request.command, prediction, first, context());
        for (const response of responses.filter((response) => response !== first)) {
          if (prediction.kind === 'key-reused') {
            // Problem details carry their own requestId: each copy is checked on its own.
            checkSingle(model, request.command, prediction, response, context());
          } else {
            expectEqual(response.status, first.status, 'burst copy status', context());
            expectEqual(response.text, first.text, 'burst copy body', context());
            expectEqual(replayedHeader(response), 'true', 'burst copy Idempotent-Replayed header', context());
          }
        }
      } else if (request.kind === 'single') {
        const response = await postUpdate(app, request.body, 'demo', request.headers);
        log.push(`${sent} -> ${response.status} ${response.text}`);
        const prediction = model.predict(request.command, model.levels);
        checkSingle(model, request.command, prediction, response, context());
      } else {
        const response = await postUpdate(app, request.body);
        log.push(`${sent} -> ${response.status} ${response.text}`);
        checkBatch(model, request, response, context());
      }
    }

    for (const [productId, level] of model.levels) {
      const response = await app.http().get(`/v1/stores/${storeId}/inventory/${productId}`).set('X-API-Key', 'demo');
      expectEqual(response.status, 200, `GET ${productId} status`, context());
      const actual = response.body as Record<string, unknown>;
      const expected = { storeId, productId, quantity: level.quantity, version: level.version, lastUpdated: level.lastUpdated };
      for (const [field, value] of Object.entries(expected)) {
        expectEqual(actual[field], value, `GET ${productId} ${field}`, context());
      }
      expectEqual(response.headers.etag, `"${level.version}"`, `GET ${productId} ETag`, context());
    }
  }

  function checkSingle(model: Model, command: Command, prediction: Prediction, response: Response, context: string): void {
    switch (prediction.kind) {
      case 'replayed':
        expectEqual(response.status, prediction.record.status, 'replayed status', context);
        expectEqual(response.text, prediction.record.body, 'replayed body', context);
        expectEqual(replayedHeader(response), 'true', 'Idempotent-Replayed header', context);
        return;
      case 'key-reused': {
        expectEqual(response.status, 422, 'key reuse status', context);
        expectEqual(String(response.headers['content-type']).startsWith('application/problem+json'), true, 'key reuse content type', context);
        const problem = response.body as Record<string, unknown>;
        expectEqual(problem.code, 'IDEMPOTENCY_KEY_REUSED', 'key reuse code', context);
        expectEqual(problem.status, 422, 'key reuse problem status', context);
        expectEqual(replayedHeader(response), undefined, 'Idempotent-Replayed header on 422', context);
        return;
      }
      case 'executed': {
        expectEqual(response.status, prediction.status, 'status', context);
        expectEqual(response.text, expectedExecutedText(prediction, response.body, context), 'body', context);
        expectEqual(replayedHeader(response), undefined, 'Idempotent-Replayed header on a first answer', context);
        commit(model, command, prediction, response.text);
        return;
      }
    }
  }

  function checkBatch(model: Model, request: Extract<SentRequest, { kind: 'batch' }>, response: Response, context: string): void {
    expectEqual(response.status, 200, 'batch status', context);
    const parsed = JSON.parse(response.text) as { results?: unknown[]; summary?: unknown };
    // Item bodies are spliced in as produced by JSON.stringify, so re-serialising is byte-exact.
    expectEqual(JSON.stringify(parsed), response.text, 'batch body is canonical JSON', context);
    expectEqual(Object.keys(parsed).join(','), 'results,summary', 'batch body fields', context);
    const results = parsed.results ?? [];
    expectEqual(results.length, request.commands.length, 'number of results', context);

    // Items are decided in order against a pending view; an atomic batch keeps it only if all succeed.
    const pending = new Map<string, { quantity: number; version: number }>(model.levels);
    const predictions = request.commands.map((command) => {
      const prediction = model.predict(command, pending);
      if (prediction.kind === 'executed' && prediction.next !== undefined) {
        pending.set(command.productId, prediction.next);
      }
      return prediction;
    });
    const aborted = request.atomic && !predictions.every(applied);

    const texts = results.map((result) => JSON.stringify(result));
    predictions.forEach((prediction, index) => {
      const command = request.commands[index];
      const what = `results[${index}] (${command.key})`;
      switch (prediction.kind) {
        case 'replayed':
          expectEqual(texts[index], prediction.record.body, `${what} replayed body`, context);
          break;
        case 'key-reused':
          expectEqual(texts[index], KEY_REUSED_ITEM(command.productId), `${what} key reuse`, context);
          break;
        case 'executed':
          if (aborted && prediction.next !== undefined) {
            expectEqual(texts[index], BATCH_ABORTED_ITEM(command.productId), `${what} aborted`, context);
          } else if (aborted) {
            // A failed item of a rolled-back batch is told against the committed level, not the batch's own changes.
            const alone = model.predict(command, model.levels);
            const text = alone.kind === 'executed' && alone.next === undefined ? JSON.stringify(alone.body) : BATCH_ABORTED_ITEM(command.productId);
            expectEqual(texts[index], text, `${what} failed in an aborted batch`, context);
          } else {
            expectEqual(texts[index], expectedExecutedText(prediction, results[index], context), `${what} body`, context);
          }
          break;
      }
    });

    const succeeded = aborted ? predictions.filter((prediction) => prediction.kind === 'replayed' && applied(prediction)).length : predictions.filter(applied).length;
    expectEqual(
      JSON.stringify(parsed.summary),
      JSON.stringify({ total: predictions.length, succeeded, failed: predictions.length - succeeded }),
      'batch summary',
      context,
    );
    // The count of results showing applied:true is what "succeeded" means to a client.
    expectEqual(results.filter((result) => (result as { applied?: unknown }).applied === true).length, succeeded, 'applied results vs summary', context);
    const allReplayed = predictions.every((prediction) => prediction.kind === 'replayed');
    expectEqual(replayedHeader(response), allReplayed ? 'true' : undefined, 'batch Idempotent-Replayed header', context);

    if (!aborted) {
      predictions.forEach((prediction, index) => {
        if (prediction.kind === 'executed') {
          commit(model, request.commands[index], prediction, texts[index]);
        }
      });
    }
  }

  /** An executed, kept update: its level changes (if applied) and its answer is stored under its key. */
  function commit(model: Model, command: Command, prediction: Extract<Prediction, { kind: 'executed' }>, text: string): void {
    if (prediction.next !== undefined) {
      const { lastUpdated } = JSON.parse(text) as { lastUpdated: string };
      model.levels.set(command.productId, { ...prediction.next, lastUpdated });
    }
    model.keys.set(command.key, { command, status: prediction.status, body: text });
  }

  it('answers every request as the model predicts, and ends with the model’s levels', async () => {
    await fc.assert(fc.asyncProperty(scenario, runScenario), { numRuns: 40 });
  }, 180_000);
});
