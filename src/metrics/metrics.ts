import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Update outcomes counted by `inventory_updates_total`. */
export type UpdateOutcome =
  | 'applied'
  | 'version_conflict'
  | 'insufficient_stock'
  | 'not_found'
  | 'quantity_limit'
  | 'precondition'
  | 'replayed'
  | 'key_reused'
  | 'aborted';

/**
 * Every Prometheus metric of the service, in a registry of its own (so several applications in
 * one process, as in the test suites, never share counters).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly updates = new Counter({
    name: 'inventory_updates_total',
    help: 'Updates by outcome (applied, version_conflict, insufficient_stock, not_found, replayed, key_reused, aborted, …)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'inventory_requests_rejected_total',
    help: 'Requests answered with a problem (4xx/5xx), by code',
    labelNames: ['code', 'status'] as const,
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'inventory_queue_wait_seconds',
    help: 'Time an update waited in the queue before its transaction started',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly transactionDuration = new Histogram({
    name: 'inventory_db_transaction_seconds',
    help: 'Duration of a group transaction, commit included',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly groupSize = new Histogram({
    name: 'inventory_group_commit_updates',
    help: 'Updates committed together in one transaction (group commit)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });

  readonly queueDepth: Gauge = new Gauge({
    name: 'inventory_queue_depth',
    help: 'Updates waiting in this instance’s queue',
    registers: [this.registry],
    collect: (): void => this.queueDepth.set(this.queueDepthProbe()),
  });

  /** Set once: with the depth, it gives the queue's saturation (what alerts compare). */
  readonly queueCapacity = new Gauge({
    name: 'inventory_queue_capacity',
    help: 'Most updates this instance’s queue holds (QUEUE_CAPACITY)',
    registers: [this.registry],
  });

  readonly reservationOperations = new Counter({
    name: 'inventory_reservation_operations_total',
    help: 'Reservation requests by operation (reserve, commit, release, extend) and outcome (the answer code, or ok / replayed)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly holdsExpired = new Counter({
    name: 'inventory_reservation_holds_expired_total',
    help: 'Holds of reservation lines that ran out and went back to their levels',
    registers: [this.registry],
  });

  /**
   * Counted by the reservation sweeper on each pass, not when scraped: a scrape never waits for the
   * database, so metrics stay readable while it is slow or busy.
   */
  readonly activeReservations = new Gauge({
    name: 'inventory_reservations_active',
    help: 'Reservations holding stock (active and not yet expired) in the whole database, as of the last sweep',
    registers: [this.registry],
    // Every worker of a cluster counts the same database: their sum would count each reservation once per worker.
    aggregator: 'max',
  });

  /**
   * Reads of the ledger made for the change feed: `tail` (each committed range, once for every
   * subscriber of this instance), `catch_up` (a subscriber behind the tail reads for itself) and
   * `head` (looking for commits of other instances).
   */
  readonly feedReads = new Counter({
    name: 'inventory_feed_reads_total',
    help: 'Ledger reads made for the change feed, by read (tail: once per commit for all subscribers; catch_up: a subscriber behind the tail; head)',
    labelNames: ['read'] as const,
    registers: [this.registry],
  });

  /**
   * How far behind the ledger the replicas are: the age of the oldest change in each page the feed
   * hands a subscriber. A replica that keeps up sees milliseconds; one catching up after a
   * restart, or reading slower than the store writes, sees its delay here.
   */
  readonly feedDeliveryLag = new Histogram({
    name: 'inventory_feed_delivery_lag_seconds',
    help: 'Age (commit to send) of the oldest change in each page the change feed hands a subscriber (long-poll answer or stream write)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });

  readonly ledgerPruned = new Counter({
    name: 'inventory_ledger_pruned_total',
    help: 'Ledger rows pruned because they were older than LEDGER_RETENTION',
    registers: [this.registry],
  });

  readonly feedSubscribers: Gauge = new Gauge({
    name: 'inventory_feed_subscribers',
    help: 'Long polls and streams of the change feed open on this instance',
    registers: [this.registry],
    collect: (): void => this.feedSubscribers.set(this.feedSubscribersProbe()),
  });

  private queueDepthProbe: () => number = () => 0;
  private feedSubscribersProbe: () => number = () => 0;
  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The update queue reports its depth when scraped. */
  observeQueueDepth(probe: () => number): void {
    this.queueDepthProbe = probe;
  }

  /** The change feed reports its open subscribers when scraped. */
  observeFeedSubscribers(probe: () => number): void {
    this.feedSubscribersProbe = probe;
  }
}
