/**
 * Loaded with `-r` into a spawned service process (see spawnTracedService): starts tracing as
 * main.ts would, with the spans kept in memory (InMemorySpanExporter) instead of exported, and
 * hands them to the test over the IPC channel when asked.
 */
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { readTracingSettings } from '../../src/config/app-config';
import { startTracing } from '../../src/common/tracing/tracing';
import type { CapturedSpan, TraceCaptureCommand, TraceCaptureReport } from './trace-capture';

const exporter = new InMemorySpanExporter();
startTracing({ ...readTracingSettings(process.env, []), enabled: true }, { spanProcessors: [new SimpleSpanProcessor(exporter)] });

function toMilliseconds([seconds, nanoseconds]: readonly [number, number]): number {
  return seconds * 1000 + nanoseconds / 1e6;
}

function captured(span: ReadableSpan): CapturedSpan {
  const { traceId, spanId } = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
    attributes: { ...span.attributes },
    status: span.status.code,
    startMs: toMilliseconds(span.startTime),
    endMs: toMilliseconds(span.endTime),
    scope: span.instrumentationScope.name,
    serviceName: span.resource.attributes['service.name'],
  };
}

process.on('message', (message: TraceCaptureCommand) => {
  if (message.traceCapture === 'spans') {
    process.send?.({ traceCapture: 'spans', spans: exporter.getFinishedSpans().map(captured) } satisfies TraceCaptureReport);
  }
});
// The channel must not keep a service alive that would otherwise exit.
process.channel?.unref();
