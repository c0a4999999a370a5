import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { TracingSettings } from '../../config/app-config';

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/** Where a change entered the update queue: the request's trace context, and when. */
export interface QueuedTrace {
  /** The request's OpenTelemetry context (opaque here). */
  readonly context: unknown;
  /** Epoch milliseconds. */
  readonly enqueuedAt: number;
}

/** The span of one group transaction. */
export interface GroupTrace {
  /** Runs the group's work with its span current, so the database statements nest under it. */
  run<T>(work: () => Promise<T>): Promise<T>;
  setAttributes(attributes: SpanAttributes): void;
  recordError(error: unknown): void;
  end(): void;
}

/**
 * The service's traces, as the update path needs them. Until startTracing binds OpenTelemetry,
 * `enabled` is false and every member does nothing: callers on the hot path check `enabled`
 * first, so with tracing off no span, context or attribute is ever built.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** The ids of the current span, for log lines; undefined outside any span. */
  currentIds(): { readonly traceId: string; readonly spanId: string } | undefined;
  /** Taken as a change is submitted to the queue; undefined outside any span. */
  enqueued(): QueuedTrace | undefined;
  /**
   * Starts the span of a group transaction: a root of its own (it carries many requests), linked
   * to each request it carries. Each request's span links back to it, and so does the span of
   * its queue wait (enqueue to now).
   */
  startGroup(origins: ReadonlyArray<QueuedTrace | undefined>, attributes: SpanAttributes): GroupTrace;
  /** A retry answered by the idempotency fast path, without the queue. */
  fastPathReplay(attributes: SpanAttributes): void;
  /** Exports what is still buffered and stops. */
  shutdown(): Promise<void>;
}

const OFF_GROUP: GroupTrace = {
  run: (work) => work(),
  setAttributes: () => undefined,
  recordError: () => undefined,
  end: () => undefined,
};

const OFF: Tracing = {
  enabled: false,
  currentIds: () => undefined,
  enqueued: () => undefined,
  startGroup: () => OFF_GROUP,
  fastPathReplay: () => undefined,
  shutdown: () => Promise.resolve(),
};

/** The process's tracing: off until startTracing. */
export const tracing: Tracing = { ...OFF };

/** Replaces what `tracing` does (startTracing; tests bind a fake and restore OFF). */
export function bindTracing(implementation: Tracing = OFF): void {
  Object.assign(tracing, implementation);
}

/** What a test harness may put in place of the exporters OTEL_* configures. */
export type TracingOverrides = Pick<NodeSDKConfiguration, 'spanProcessors'>;

/**
 * Starts OpenTelemetry (once; later calls do nothing). It is required here, not imported at the
 * top: with tracing off, not one of its modules is loaded.
 */
export function startTracing(settings: TracingSettings, overrides: TracingOverrides = {}): void {
  if (tracing.enabled) {
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openTelemetryTracing } = require('./open-telemetry') as typeof import('./open-telemetry');
  bindTracing(openTelemetryTracing(settings, overrides));
}
