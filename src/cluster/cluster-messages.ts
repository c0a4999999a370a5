/**
 * What the primary and the workers of a cluster (WORKERS > 1) tell each other over the IPC
 * channel node:cluster opens.
 */
export type ClusterMessage =
  /** A worker committed changes through `seq`: the others' change feeds read them at once. */
  | { readonly type: 'inventory:committed'; readonly seq: number }
  /** A worker serves /metrics: it asks the primary for every worker's metrics, aggregated. */
  | { readonly type: 'inventory:metrics-request'; readonly id: number }
  | { readonly type: 'inventory:metrics'; readonly id: number; readonly text?: string; readonly error?: string }
  /** The primary collects each worker's own metrics (prom-client's JSON form) to aggregate them. */
  | { readonly type: 'inventory:metrics-collect'; readonly id: number }
  | { readonly type: 'inventory:metrics-part'; readonly id: number; readonly metrics: unknown[] }
  /** The primary is shutting down: the worker drains as it would on SIGTERM. */
  | { readonly type: 'inventory:shutdown' };

/** How long the primary waits for the workers' metrics before it answers with those it has. */
export const METRICS_COLLECT_MS = 2000;

/**
 * How long a worker waits for the primary's answer to a metrics request: the primary's collection,
 * and a margin for its aggregation and the messages. Past it the primary is taken for gone.
 */
export const METRICS_ANSWER_TIMEOUT_MS = METRICS_COLLECT_MS + 1000;

const TYPES: ReadonlySet<string> = new Set([
  'inventory:committed',
  'inventory:metrics-request',
  'inventory:metrics',
  'inventory:metrics-collect',
  'inventory:metrics-part',
  'inventory:shutdown',
]);

export function isClusterMessage(message: unknown): message is ClusterMessage {
  return typeof message === 'object' && message !== null && TYPES.has((message as { type?: unknown }).type as string);
}
