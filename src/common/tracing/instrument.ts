/**
 * Imported first by main.ts: OpenTelemetry's instrumentations patch http, express and pg as they
 * are required, so they must be in place before anything requires them. Tracing starts only when
 * OTEL_* asks for it; with a bad OTEL_* value it stays off and loadConfig reports the value. It
 * does not start in a cluster's primary, which serves no request: its workers, which run this
 * too, trace theirs.
 */
import cluster from 'node:cluster';
import { isClusterPrimary, readTracingSettings, readWorkers } from '../../config/app-config';
import { startTracing } from './tracing';

const problems: string[] = [];
const settings = readTracingSettings(process.env, problems);
if (settings.enabled && problems.length === 0 && !isClusterPrimary(readWorkers(process.env, []), cluster.isPrimary)) {
  startTracing(settings);
}
