/**
 * store-replica: keeps a local copy of one store's stock (on hand, reserved, and so available)
 * in sync with the inventory service.
 *
 *   INVENTORY_URL=http://localhost:8081 API_KEY=demo STORE_ID=store-1 STATE_FILE=./store-1.json \
 *     npx ts-node examples/store-replica.ts
 *
 * How it stays correct:
 * 1. Snapshot: it pages through GET /v1/stores/:storeId/inventory, remembering the `lastSeq` of
 *    the first page: every change up to that seq is already reflected in the pages.
 * 2. Feed: it long-polls GET /v1/changes?storeId=…&after=<lastSeq>&waitSeconds=25 and applies
 *    each change in seq order. A change whose version the copy already has (a page read after
 *    that change) is skipped, so snapshot and feed never double-count.
 * 3. Resume: after every batch of changes it saves {lastSeq, levels} to STATE_FILE (write to a
 *    temporary file, then rename, so a crash never leaves half a file). On restart it continues
 *    from the saved lastSeq instead of taking a new snapshot.
 * 4. Re-snapshot: when the feed refuses the saved position (409 FEED_POSITION_AHEAD: the service
 *    runs on a new or restored database; 410 FEED_POSITION_EXPIRED: the position is older than
 *    the history the service keeps), following on would miss changes: the client's feed takes a
 *    fresh snapshot, the replica replaces its copy with it, and the feed goes on from there.
 * Its HTTP calls go through the typed client (clients/typescript, `@inventory/client`), which
 * retries failed requests (network, 503, 504, 429) and follows the feed; when the client gives
 * up, the replica tries again with a delay growing to 30 s. 401/403 stop it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
// From the package's source, so the example runs without building it first.
import { type Change, InventoryClient, InventoryHttpError, type StoreSnapshot } from '../clients/typescript/src';

export interface ReplicaLevel {
  /** On hand. */
  quantity: number;
  /** Held by reservations (checkouts in progress); what can be sold is quantity - reserved. */
  reserved: number;
  version: number;
  lastUpdated: string;
}

interface SavedState {
  storeId: string;
  lastSeq: number;
  levels: Record<string, ReplicaLevel>;
}

export interface ReplicaOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly storeId: string;
  /** Where to keep {lastSeq, levels} between runs; nothing is saved when undefined. */
  readonly stateFile?: string;
  /** Long-poll wait per feed request, in seconds (0-30). */
  readonly waitSeconds?: number;
  readonly log?: (message: string) => void;
}

export class StoreReplica {
  readonly levels = new Map<string, ReplicaLevel>();
  lastSeq = 0;
  /** How many snapshots were taken (0 when resumed from the state file). */
  snapshots = 0;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private readonly client: InventoryClient;

  constructor(private readonly options: ReplicaOptions) {
    this.client = new InventoryClient({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      onRetry: ({ operation, error, delayMs }) => options.log?.(`${error.message}; ${operation} retried in ${delayMs} ms`),
    });
  }

  /** Loads the saved state or takes a snapshot, then follows the feed until stop(). */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    if (!this.load()) {
      await this.retrying(() => this.snapshot());
    }
    while (!this.stopping.signal.aborted) {
      await this.retrying(() => this.follow());
    }
  }

  private load(): boolean {
    const file = this.options.stateFile;
    if (file === undefined || !existsSync(file)) {
      return false;
    }
    const state = JSON.parse(readFileSync(file, 'utf8')) as SavedState;
    if (state.storeId !== this.options.storeId) {
      throw new Error(`${file} holds store ${state.storeId}, not ${this.options.storeId}`);
    }
    this.lastSeq = state.lastSeq;
    Object.entries(state.levels).forEach(([productId, level]) => this.levels.set(productId, level));
    this.options.log?.(`resumed from ${file} at seq ${this.lastSeq}`);
    return true;
  }

  private save(): void {
    const file = this.options.stateFile;
    if (file === undefined) {
      return;
    }
    const state: SavedState = { storeId: this.options.storeId, lastSeq: this.lastSeq, levels: Object.fromEntries(this.levels) };
    writeFileSync(`${file}.tmp`, JSON.stringify(state));
    renameSync(`${file}.tmp`, file);
  }

  private async snapshot(): Promise<void> {
    this.replaceWith(await this.client.snapshot(this.options.storeId, { signal: this.stopping.signal }));
  }

  /** Swaps the whole copy for a snapshot's levels at once, so it is never seen half-rebuilt. */
  private replaceWith({ levels, lastSeq }: StoreSnapshot): void {
    this.levels.clear();
    for (const { productId, quantity, reserved, version, lastUpdated } of levels) {
      this.levels.set(productId, { quantity, reserved, version, lastUpdated });
    }
    this.lastSeq = lastSeq;
    this.snapshots += 1;
    this.save();
    this.options.log?.(`snapshot of ${this.levels.size} levels at seq ${this.lastSeq}`);
  }

  /**
   * Follows the feed from lastSeq, saving the position after every page, until the replica stops.
   * A refused position comes as a fresh snapshot of the store, which replaces the copy.
   */
  private async follow(): Promise<void> {
    const feed = this.client.changes({ storeId: this.options.storeId, after: this.lastSeq, limit: 1000, waitSeconds: this.options.waitSeconds ?? 25, signal: this.stopping.signal });
    for await (const event of feed) {
      if (event.type === 'snapshot') {
        this.options.log?.(`the feed refused position ${event.position} (${event.code}: ${event.error.detail ?? event.error.status}); replacing the copy with a fresh snapshot`);
        this.replaceWith(event);
      } else if (event.type === 'changes') {
        event.changes.forEach((change) => this.apply(change));
        if (event.lastSeq !== this.lastSeq) {
          this.lastSeq = event.lastSeq;
          this.save();
        }
      }
    }
  }

  /** Applies a change unless the copy already reflects it (it has that version or a later one). */
  apply(change: Change): void {
    const current = this.levels.get(change.productId);
    if (current === undefined || change.version > current.version) {
      // Every change carries the level's whole state after it: on hand and reserved alike, so the
      // copy's available (quantity - reserved) is right after holds, commits and expiries too.
      this.levels.set(change.productId, { quantity: change.quantity, reserved: change.reserved, version: change.version, lastUpdated: change.createdAt });
    }
  }

  /**
   * Runs `step`, trying again after a delay growing from 0.5 s to 30 s when it fails in a way
   * that may pass (the client has already retried it within its own bounds). Undefined when the
   * replica stopped first.
   */
  private async retrying<T>(step: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; !this.stopping.signal.aborted; attempt += 1) {
      try {
        return await step();
      } catch (error) {
        if (this.stopping.signal.aborted) {
          return undefined;
        }
        if (error instanceof InventoryHttpError && (error.status === 401 || error.status === 403)) {
          throw new Error(`${error.message}: check API_KEY and STORE_ID`, { cause: error });
        }
        const delay = Math.min(30_000, 500 * 2 ** attempt);
        this.options.log?.(`${error instanceof Error ? error.message : String(error)}; retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return undefined;
  }
}

if (require.main === module) {
  const replica = new StoreReplica({
    baseUrl: process.env.INVENTORY_URL ?? 'http://localhost:8081',
    apiKey: process.env.API_KEY ?? 'demo',
    storeId: process.env.STORE_ID ?? 'store-1',
    stateFile: process.env.STATE_FILE ?? `./${process.env.STORE_ID ?? 'store-1'}.replica.json`,
    log: (message) => console.error(`[store-replica] ${message}`),
  });
  const stop = () => void replica.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  replica.start().catch((error: unknown) => {
    console.error(`[store-replica] stopped: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
