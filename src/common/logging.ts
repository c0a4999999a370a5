import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { assignRequestId } from './http/request-id';

/**
 * Structured JSON logs. Every line of a request carries its `reqId`; request lines hold only
 * method, url and id, so headers (and with them API keys) never reach the log.
 */
export function loggerParams(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      genReqId: assignRequestId,
      quietReqLogger: true,
      redact: { paths: ['req.headers["x-api-key"]', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      serializers: {
        req: (request: IncomingMessage & { id?: unknown }) => ({ id: request.id, method: request.method, url: request.url }),
        res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
      },
      // Failures are logged at warn and error. Successes are logged at debug: an applied update has
      // its own info line, and a line for every successful read would cost more than the read.
      customLogLevel: (_request, response, error) => {
        if (error !== undefined || response.statusCode >= 500) {
          return 'error';
        }
        return response.statusCode >= 400 ? 'warn' : 'debug';
      },
      autoLogging: { ignore: (request) => request.url?.startsWith('/health') === true },
    },
  };
}
