import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Params } from 'nestjs-pino';
import pino, { type Level, type Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { assignRequestId } from './http/request-id';
import { tracing } from './tracing/tracing';

/** The process's root logger (JSON lines on stdout); every request logs through a child of it. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

export function createRootLogger(config: AppConfig): Logger {
  // A worker of a cluster (WORKERS > 1) says which it is on every line.
  return pino({ level: config.logLevel, ...(cluster.isWorker ? { base: { pid: process.pid, hostname: hostname(), worker: cluster.worker?.id } } : {}) });
}

/**
 * nestjs-pino gives the application its logger (`app.useLogger`, PinoLogger for services) but binds
 * no request: its middleware would run every request inside an AsyncLocalStorage, and on Node 20 an
 * AsyncLocalStorage in use hooks every promise of the process — a fifth of an update's CPU. A
 * request's work logs through the RequestLog it is handed instead.
 */
export function loggerParams(root: Logger): Params {
  return { pinoHttp: { logger: root }, useExisting: true, forRoutes: [] };
}

type Bindings = Readonly<Record<string, string>>;

/**
 * One request as its work logs it: a line carries the request's id (and, with tracing on, its
 * trace). The child logger holding those bindings is made when the first line is written, so
 * the many requests that write none (a successful read logs at debug) never pay for it.
 */
export class RequestLog {
  private bound: Logger | undefined;

  constructor(
    private readonly root: Logger,
    readonly id: string,
    private readonly bindings: Bindings,
  ) {}

  isLevelEnabled(level: Level): boolean {
    return this.root.isLevelEnabled(level);
  }

  debug(object: object, message: string): void {
    this.write('debug', object, message);
  }

  info(object: object, message: string): void {
    this.write('info', object, message);
  }

  warn(object: object, message: string): void {
    this.write('warn', object, message);
  }

  error(object: object, message: string): void {
    this.write('error', object, message);
  }

  write(level: Level, object: object, message: string): void {
    if (this.root.isLevelEnabled(level)) {
      this.bound ??= this.root.child(this.bindings);
      this.bound[level](object, message);
    }
  }
}

/** How a line is written: a request's log, or a service's own logger outside any request. */
export type LineWriter = Pick<RequestLog, 'debug' | 'info' | 'warn' | 'error'>;

/** The URL without its query string. */
function pathOf(url: string | undefined): string | undefined {
  const query = url?.indexOf('?') ?? -1;
  return query === -1 ? url : url!.slice(0, query);
}

type LoggedRequest = IncomingMessage & { requestLog?: RequestLog };

/** The log of a request that went through requestLogging (every request of the application). */
export function requestLogOf(request: IncomingMessage): RequestLog | undefined {
  return (request as LoggedRequest).requestLog;
}

function levelOf(response: ServerResponse): Level {
  // A client that leaves before its answer (a closed stream or long poll, a client timeout) is
  // not a failure of the service; slowness shows in the latency metrics and in 504 lines.
  if (!response.writableFinished) {
    return 'info';
  }
  // 503s are refusals by design (queue full, shutting down, database gone: the last also logs an
  // error line of its own). Client errors are warn; successes debug: an applied update has its own
  // info line, and a line for every successful read would cost more than the read.
  if (response.statusCode >= 500) {
    return response.statusCode === 503 ? 'warn' : 'error';
  }
  return response.statusCode >= 400 ? 'warn' : 'debug';
}

/**
 * Gives each request its id and its RequestLog, and logs one line when it ends. The line holds
 * method, path, status and time only: neither headers nor the query string (where a careless
 * client may put a key) reach the log.
 * Written here rather than taken from pino-http, which builds two child loggers per request and
 * serialises the request even when no line is written: on a read, that was a sixth of the CPU.
 */
export function requestLogging(root: Logger) {
  // Decided once, so that with tracing off a request pays nothing for it.
  const traced = tracing.enabled;
  return (request: LoggedRequest, response: ServerResponse, next: () => void): void => {
    const reqId = assignRequestId(request, response);
    // With tracing on, every line of the request names its trace (the HTTP server span's).
    const log = new RequestLog(root, reqId, traced ? { reqId, ...tracing.currentIds() } : { reqId });
    request.id = reqId;
    request.requestLog = log;
    if (request.url?.startsWith('/health') !== true) {
      const started = performance.now();
      response.once('close', () => {
        const level = levelOf(response);
        if (log.isLevelEnabled(level)) {
          log.write(
            level,
            { req: { method: request.method, url: pathOf(request.url) }, res: { statusCode: response.statusCode }, responseTime: Math.round(performance.now() - started) },
            response.writableFinished ? 'request completed' : 'request aborted',
          );
        }
      });
    }
    next();
  };
}
