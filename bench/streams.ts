/**
 * Subscribers of the change feed for the stream scenarios: many Server-Sent Event streams held
 * open on the service, each on a connection of its own, by a light client in a worker thread. The
 * worker has an event loop of its own, so reading events never holds up the load generator and
 * the load never holds up the time an event is seen to arrive.
 *
 * It records, for every change, when the last stream that should receive it did: the change's
 * delivery delay, from its `createdAt` (taken as its group transaction begins, so the delay
 * includes the commit). It parses only what that needs: each event's `id:` (its seq), and once
 * per change (on its first arrival) the store and `createdAt` from its data; a scoped stream's
 * events are checked to be of its store.
 */
import { request } from 'node:http';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface StreamPlan {
  /** The service. */
  readonly url: string;
  readonly apiKey: string;
  /** Every stream starts after this seq: the head when they open. */
  readonly after: number;
  /** Streams with ?storeId=, one store after another. */
  readonly scoped: number;
  /** Streams of every store the key may see (all). */
  readonly unscoped: number;
  readonly stores: readonly string[];
}

/** What the streams received from the time they opened until they were closed. */
export interface DeliveryReport {
  readonly streams: number;
  /** Changes committed while the streams were open (seqs after the plan's, through the head given to drain). */
  readonly changes: number;
  /** Events received, all streams together. */
  readonly deliveries: number;
  /** Changes that some stream which should have received them had not when the streams closed. */
  readonly undelivered: number;
  /** Events a stream should not have had: a seq again or out of order, another store's, more copies than subscribers. */
  readonly unexpected: number;
  /** Delivery delay of the changes, ms: from `createdAt` to the last subscriber's receipt; undelivered ones count as infinite. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** From drain (the load stopped and its requests were answered) until every change was delivered, ms. */
  readonly drainMs: number;
  /** Share of the time from the streams' opening to drain that the client's event loop was busy (0–1). */
  readonly clientBusy: number;
}

type ToWorker = { readonly type: 'drain'; readonly head: number; readonly timeoutMs: number };
type FromWorker =
  | { readonly type: 'opened'; readonly ms: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'report'; readonly report: DeliveryReport };

/** Streams opened at once, at most. */
const OPENING = 64;

/** The streams of a plan, open, in a worker. */
export class StreamClients {
  private constructor(
    private readonly worker: Worker,
    private readonly messages: AsyncIterator<FromWorker>,
    /** How long opening every stream took, ms. */
    readonly openMs: number,
  ) {}

  /** Opens every stream of `plan` and resolves once each has its first bytes (the service counts it then). */
  static async open(plan: StreamPlan): Promise<StreamClients> {
    const worker = new Worker(__filename, { workerData: plan });
    const messages = messagesOf(worker);
    const first = await messages.next();
    if (first.done === true || first.value.type !== 'opened') {
      await worker.terminate();
      throw new Error(`opening ${plan.scoped + plan.unscoped} change streams: ${first.done === true ? 'the worker ended' : first.value.type === 'failed' ? first.value.message : first.value.type}`);
    }
    return new StreamClients(worker, messages, first.value.ms);
  }

  /**
   * Waits until every change through `head` has reached every stream that should receive it (or
   * `timeoutMs` has passed), then closes the streams and reports.
   */
  async drain(head: number, timeoutMs: number): Promise<DeliveryReport> {
    this.worker.postMessage({ type: 'drain', head, timeoutMs } satisfies ToWorker);
    try {
      const next = await this.messages.next();
      if (next.done === true || next.value.type !== 'report') {
        throw new Error(`the change streams ended without a report: ${next.done === true ? 'the worker ended' : next.value.type === 'failed' ? next.value.message : next.value.type}`);
      }
      return next.value.report;
    } finally {
      await this.worker.terminate();
    }
  }
}

/** The worker's messages in order; a worker error or exit ends them with a `failed`. */
function messagesOf(worker: Worker): AsyncIterator<FromWorker> {
  const queue: FromWorker[] = [];
  let wake: (() => void) | undefined;
  const push = (message: FromWorker) => {
    queue.push(message);
    wake?.();
  };
  worker.on('message', (message: FromWorker) => push(message));
  worker.on('error', (error) => push({ type: 'failed', message: String(error) }));
  worker.on('exit', (code) => push({ type: 'failed', message: `the worker exited with ${code}` }));
  return {
    next: async () => {
      while (queue.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return { done: false, value: queue.shift()! };
    },
  };
}

/** One change as the streams have seen it so far. */
interface Change {
  /** Its createdAt, ms since the epoch. */
  readonly createdAt: number;
  /** Streams that should receive it: the unscoped ones and those of its store. */
  readonly expected: number;
  received: number;
}

interface Stream {
  /** The store of a scoped stream, as its events' data starts with it (`"storeId":"store-0001"`). */
  readonly storeTag: string | undefined;
  /** The last seq received. */
  last: number;
  /** The start of an event not yet complete. */
  rest: string;
  close(): void;
}

function runWorker(plan: StreamPlan): void {
  const port = parentPort!;
  const scopedOf = new Map<string, number>();
  for (let index = 0; index < plan.scoped; index += 1) {
    const store = plan.stores[index % plan.stores.length];
    scopedOf.set(store, (scopedOf.get(store) ?? 0) + 1);
  }
  const changes = new Map<number, Change>();
  const delays: number[] = [];
  const streams: Stream[] = [];
  let deliveries = 0;
  let unexpected = 0;
  let sinceOpened: EventLoopUtilization | undefined;

  /** Reads the complete events of a chunk (`id: <seq>\nevent: change\ndata: {…}\n\n`; comments and `retry:` are skipped). */
  const onData = (stream: Stream, chunk: Buffer) => {
    const now = Date.now();
    // Events are ASCII up to the end of what is read of them; latin1 never splits a character.
    const text = stream.rest.length === 0 ? chunk.toString('latin1') : stream.rest + chunk.toString('latin1');
    let position = 0;
    for (let end = text.indexOf('\n\n', position); end >= 0; end = text.indexOf('\n\n', position)) {
      if (text.startsWith('id: ', position)) {
        let seq = 0;
        let index = position + 4;
        for (let code = text.charCodeAt(index); code >= 48 && code <= 57; code = text.charCodeAt((index += 1))) {
          seq = seq * 10 + code - 48;
        }
        arrived(stream, seq, text, index, end, now);
      }
      position = end + 2;
    }
    stream.rest = position === text.length ? '' : text.slice(position);
  };

  const arrived = (stream: Stream, seq: number, text: string, from: number, end: number, now: number) => {
    deliveries += 1;
    if (seq <= stream.last) {
      unexpected += 1;
      return;
    }
    stream.last = seq;
    const data = text.indexOf('data: ', from) + 6;
    if (stream.storeTag !== undefined && !text.startsWith(stream.storeTag, text.indexOf('"storeId":', data))) {
      unexpected += 1;
      return;
    }
    let change = changes.get(seq);
    if (change === undefined) {
      const { storeId, createdAt } = JSON.parse(text.slice(data, end)) as { storeId: string; createdAt: string };
      change = { createdAt: Date.parse(createdAt), expected: plan.unscoped + (scopedOf.get(storeId) ?? 0), received: 0 };
      changes.set(seq, change);
    }
    change.received += 1;
    if (change.received === change.expected) {
      delays.push(now - change.createdAt);
    } else if (change.received > change.expected) {
      unexpected += 1;
    }
  };

  const open = (storeId: string | undefined) =>
    new Promise<Stream>((resolve, reject) => {
      const query = `after=${plan.after}${storeId === undefined ? '' : `&storeId=${encodeURIComponent(storeId)}`}`;
      const outgoing = request(`${plan.url}/v1/changes/stream?${query}`, { agent: false, headers: { 'X-API-Key': plan.apiKey, Accept: 'text/event-stream' } });
      outgoing.on('error', reject);
      outgoing.on('response', (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`GET /v1/changes/stream?${query}: ${response.statusCode}`));
          return;
        }
        const stream: Stream = { storeTag: storeId === undefined ? undefined : `"storeId":${JSON.stringify(storeId)}`, last: plan.after, rest: '', close: () => outgoing.destroy() };
        let opened = false;
        response.on('error', () => undefined);
        response.on('data', (chunk: Buffer) => {
          if (!opened) {
            opened = true;
            // From now on a lost connection shows as changes not delivered.
            outgoing.removeListener('error', reject);
            outgoing.on('error', () => undefined);
            resolve(stream);
          }
          onData(stream, chunk);
        });
      });
      outgoing.end();
    });

  const openAll = async () => {
    const started = Date.now();
    const scopes: Array<string | undefined> = [
      ...Array.from({ length: plan.unscoped }, () => undefined),
      ...Array.from({ length: plan.scoped }, (_, index) => plan.stores[index % plan.stores.length]),
    ];
    let next = 0;
    await Promise.all(
      Array.from({ length: OPENING }, async () => {
        for (let index = next++; index < scopes.length; index = next++) {
          streams.push(await open(scopes[index]));
        }
      }),
    );
    return Date.now() - started;
  };

  const drain = async ({ head, timeoutMs }: ToWorker) => {
    const clientBusy = sinceOpened === undefined ? 0 : performance.eventLoopUtilization(sinceOpened).utilization;
    const started = Date.now();
    const total = Math.max(0, head - plan.after);
    while (delays.length < total && Date.now() - started < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const drainMs = Date.now() - started;
    streams.forEach((stream) => stream.close());
    const sorted = [...delays, ...Array.from({ length: total - Math.min(total, delays.length) }, () => Number.POSITIVE_INFINITY)].sort((a, b) => a - b);
    const percentile = (share: number) => (sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil(share * sorted.length) - 1)]);
    const report: DeliveryReport = {
      streams: streams.length,
      changes: total,
      deliveries,
      undelivered: total - Math.min(total, delays.length),
      unexpected,
      p50: percentile(0.5),
      p99: percentile(0.99),
      max: percentile(1),
      drainMs,
      clientBusy,
    };
    port.postMessage({ type: 'report', report } satisfies FromWorker);
  };

  port.on('message', (message: ToWorker) => void drain(message));
  openAll().then(
    (ms) => {
      sinceOpened = performance.eventLoopUtilization();
      port.postMessage({ type: 'opened', ms } satisfies FromWorker);
    },
    (error: unknown) => {
      streams.forEach((stream) => stream.close());
      port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies FromWorker);
    },
  );
}

if (!isMainThread && parentPort !== null) {
  runWorker(workerData as StreamPlan);
}
