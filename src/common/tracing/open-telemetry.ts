import { context, type Context, type Link, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { IncomingMessage } from 'node:http';
import type { TracingSettings } from '../../config/app-config';
import type { GroupTrace, QueuedTrace, Tracing, TracingOverrides } from './tracing';

/** The instrumentation scope of the service's own spans. */
const TRACER_NAME = 'inventory-service';

const SPAN_NAMES = {
  queueWait: 'inventory.queue.wait',
  group: 'inventory.group.transaction',
  fastPathReplay: 'inventory.idempotency.replay',
} as const;

/** Probes and scrapes arrive every few seconds and say nothing about the work: no traces for them. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/** Epoch milliseconds with sub-millisecond precision, as span times. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * OpenTelemetry's NodeSDK, configured by the standard OTEL_* variables, with the HTTP, Express and
 * pg instrumentations; and the service's own spans over it. Loaded only when tracing is on, and
 * before express and pg are required (the instrumentations patch them as they load).
 */
export function openTelemetryTracing(settings: TracingSettings, overrides: TracingOverrides): Tracing {
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.test(request.url ?? '') }),
      // Kept for the route it gives the HTTP server span (`POST /v1/inventory/updates`); its own
      // spans, one per layer (each middleware, Nest's included), would be noise.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER] }),
      // Statements outside any request or group (the feed's head polls, the sweepers) would each
      // start a trace of their own, every second.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
    // Traces only: metrics are served at /metrics, logs go to stdout.
    metricReaders: [],
    logRecordProcessors: [],
    ...overrides,
  });
  sdk.start();
  const tracer = trace.getTracer(TRACER_NAME);

  return {
    enabled: true,

    currentIds() {
      const span = trace.getActiveSpan();
      if (span === undefined) {
        return undefined;
      }
      const { traceId, spanId } = span.spanContext();
      return { traceId, spanId };
    },

    enqueued() {
      const active = context.active();
      return trace.getSpan(active) === undefined ? undefined : { context: active, enqueuedAt: now() };
    },

    startGroup(origins, attributes): GroupTrace {
      const queued = origins.filter((origin): origin is QueuedTrace => origin !== undefined);
      const links = queued.map((origin): Link => ({ context: trace.getSpanContext(origin.context as Context)! }));
      // A root of its own: the group is no more one request's than another's.
      const span = tracer.startSpan(SPAN_NAMES.group, { root: true, attributes, links });
      const startedAt = now();
      const toGroup: Link[] = [{ context: span.spanContext() }];
      for (const origin of queued) {
        // The request's own span (still open: the request waits for the group) names the group
        // too, so a trace viewer leads from a slow request straight to the transaction.
        trace.getSpan(origin.context as Context)?.addLinks(toGroup);
        tracer.startSpan(SPAN_NAMES.queueWait, { startTime: origin.enqueuedAt, links: toGroup }, origin.context as Context).end(startedAt);
      }
      const groupContext = trace.setSpan(ROOT_CONTEXT, span);
      return {
        run: (work) => context.with(groupContext, work),
        setAttributes: (more) => span.setAttributes(more),
        recordError: (error) => {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        },
        end: () => span.end(),
      };
    },

    fastPathReplay(attributes) {
      tracer.startSpan(SPAN_NAMES.fastPathReplay, { attributes }).end();
    },

    shutdown: () => sdk.shutdown(),
  };
}
