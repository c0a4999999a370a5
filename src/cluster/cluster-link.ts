import cluster from 'node:cluster';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type ClusterMessage, isClusterMessage, METRICS_ANSWER_TIMEOUT_MS } from './cluster-messages';

/**
 * A worker's line to the primary of its cluster, and nothing at all in a single process (and in
 * the test suites, which build the application in-process): every method is then a no-op.
 */
@Injectable()
export class ClusterLink implements OnModuleDestroy {
  /** The worker's id (1, 2, …), or undefined in a single process. */
  readonly workerId: number | undefined = cluster.isWorker ? cluster.worker?.id : undefined;
  private readonly committedHandlers: Array<(seq: number) => void> = [];
  private ownMetrics: () => Promise<unknown[]> = () => Promise.resolve([]);
  private readonly pendingMetrics = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private requests = 0;
  private readonly onMessage = (message: unknown) => this.received(message);

  constructor() {
    if (this.workerId !== undefined) {
      process.on('message', this.onMessage);
    }
  }

  get inCluster(): boolean {
    return this.workerId !== undefined;
  }

  onModuleDestroy(): void {
    process.off('message', this.onMessage);
  }

  /** Tells the other workers (through the primary) that this one committed changes through `seq`. */
  committed(seq: number): void {
    this.send({ type: 'inventory:committed', seq });
  }

  /** Calls `handler` with the last seq of each commit another worker makes. */
  onCommittedElsewhere(handler: (seq: number) => void): void {
    this.committedHandlers.push(handler);
  }

  /** What this worker answers when the primary collects the workers' metrics. */
  serveMetrics(collect: () => Promise<unknown[]>): void {
    this.ownMetrics = collect;
  }

  /** Every worker's metrics, aggregated by the primary (prom-client's AggregatorRegistry). */
  clusterMetrics(): Promise<string> {
    const id = (this.requests += 1);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingMetrics.delete(id);
        reject(new Error(`the primary did not answer a metrics request within ${METRICS_ANSWER_TIMEOUT_MS} ms`));
      }, METRICS_ANSWER_TIMEOUT_MS);
      this.pendingMetrics.set(id, { resolve, reject, timer });
      this.send({ type: 'inventory:metrics-request', id });
    });
  }

  private send(message: ClusterMessage): void {
    // Once the primary is gone the channel is closed: the worker is shutting down then anyway.
    if (this.workerId !== undefined && process.connected) {
      process.send!(message);
    }
  }

  private received(message: unknown): void {
    if (!isClusterMessage(message)) {
      return;
    }
    if (message.type === 'inventory:committed') {
      this.committedHandlers.forEach((handler) => handler(message.seq));
    } else if (message.type === 'inventory:metrics-collect') {
      void this.ownMetrics().then((metrics) => this.send({ type: 'inventory:metrics-part', id: message.id, metrics }));
    } else if (message.type === 'inventory:metrics') {
      const pending = this.pendingMetrics.get(message.id);
      if (pending !== undefined) {
        this.pendingMetrics.delete(message.id);
        clearTimeout(pending.timer);
        if (message.text !== undefined) {
          pending.resolve(message.text);
        } else {
          pending.reject(new Error(message.error ?? 'the primary could not aggregate the metrics'));
        }
      }
    }
  }
}
