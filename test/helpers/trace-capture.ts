import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { type ServiceProcess, spawnService, type SpawnOptions } from './service-process';
import { waitFor } from './wait';

/** A finished span, as the service process hands it over. */
export interface CapturedSpan {
  readonly name: string;
  /** SpanKind: 0 internal, 1 server, 2 client. */
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** SpanStatusCode: 0 unset, 1 ok, 2 error. */
  readonly status: number;
  readonly startMs: number;
  readonly endMs: number;
  /** The instrumentation scope that made it. */
  readonly scope: string;
  readonly serviceName: unknown;
}

export type TraceCaptureCommand = { readonly traceCapture: 'spans' };
export type TraceCaptureReport = { readonly traceCapture: 'spans'; readonly spans: readonly CapturedSpan[] };
export type LoadedModulesCommand = { readonly loadedModules: 'list' };
export type LoadedModulesReport = { readonly loadedModules: readonly string[] };

const TRACE_CAPTURE = join(__dirname, 'trace-capture.preload.ts');
const LOADED_MODULES = join(__dirname, 'loaded-modules.preload.ts');

/** Sends `command` and resolves with the first answer `accept` takes. */
function ask<R>(child: ChildProcess, command: object, accept: (message: unknown) => R | undefined): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const listener = (message: unknown) => {
      const answer = accept(message);
      if (answer !== undefined) {
        child.off('message', listener);
        resolve(answer);
      }
    };
    child.on('message', listener);
    child.send(command, (error) => {
      if (error !== null) {
        child.off('message', listener);
        reject(error);
      }
    });
  });
}

/** A service process that records its spans in memory; `spans()` asks for those finished so far. */
export async function spawnTracedService(env: Record<string, string>, options: SpawnOptions = {}): Promise<{ service: ServiceProcess; spans: () => Promise<readonly CapturedSpan[]> }> {
  const service = await spawnService(env, { ...options, preload: [...(options.preload ?? []), TRACE_CAPTURE], ipc: true });
  const spans = () =>
    ask(service.child, { traceCapture: 'spans' } satisfies TraceCaptureCommand, (message) => {
      const report = message as Partial<TraceCaptureReport>;
      return report.traceCapture === 'spans' ? report.spans : undefined;
    });
  return { service, spans };
}

/** Polls the spans until `probe` finds what it needs. */
export function waitForSpans<T>(what: string, spans: () => Promise<readonly CapturedSpan[]>, probe: (spans: readonly CapturedSpan[]) => T | undefined | false): Promise<T> {
  return waitFor(what, async () => probe(await spans()), { timeoutMs: 30_000, intervalMs: 100 });
}

/** A service process that can tell which modules it has loaded. */
export async function spawnModuleReportingService(env: Record<string, string>): Promise<{ service: ServiceProcess; loadedModules: () => Promise<readonly string[]> }> {
  const service = await spawnService(env, { preload: [LOADED_MODULES], ipc: true });
  const loadedModules = () =>
    ask(service.child, { loadedModules: 'list' } satisfies LoadedModulesCommand, (message) => (message as Partial<LoadedModulesReport>).loadedModules);
  return { service, loadedModules };
}
