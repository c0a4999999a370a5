// autocannon 8 ships no type declarations (and there is no @types package in the project):
// the part of its programmatic API the load tests use. See node_modules/autocannon/README.md.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface RequestParams {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }

    interface Request extends RequestParams {
      /** Builds each request afresh; a falsy return restarts the client's request sequence. */
      setupRequest?: (request: RequestParams, context: Record<string, unknown>) => RequestParams | undefined;
      /** Headers are as received (raw header names, case kept). */
      onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>) => void;
    }

    /** One connection; emits 'response' (statusCode, resBytes, responseTimeMs) and 'timeout'. */
    type Client = EventEmitter;

    interface Options extends RequestParams {
      url: string;
      /** Called with each connection's client as it is created. */
      setupClient?: (client: Client) => void;
      connections?: number;
      /** Seconds. */
      duration?: number;
      amount?: number;
      /** Seconds to wait for each answer before counting a timeout. */
      timeout?: number;
      pipelining?: number;
      requests?: Request[];
      idReplacement?: boolean;
      excludeErrorStats?: boolean;
    }

    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p97_5: number;
      p99: number;
      p99_9: number;
    }

    interface Result {
      url: string;
      /** Seconds. */
      duration: number;
      connections: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      resets: number;
      '1xx': number;
      '2xx': number;
      '3xx': number;
      '4xx': number;
      '5xx': number;
      statusCodeStats: Record<string, { count: number }>;
      /** Milliseconds, over every answer (unless excludeErrorStats). */
      latency: Histogram;
      /** Per-second request counts; `total` is every answer received. */
      requests: Histogram & { sent: number };
      throughput: Histogram;
    }

    /** Emits 'response' (client, statusCode, resBytes, responseTimeMs) and 'reqError' (error); awaitable. */
    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;

  export = autocannon;
}
