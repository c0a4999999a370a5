import { Injectable, type NestMiddleware } from '@nestjs/common';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { ApiError } from '../errors/api-error';

/** Deeper than any valid request (a batch is body → updates → item → value). */
export const MAX_JSON_DEPTH = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJsonMediaType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType !== undefined && /^application\/[\w.+-]+\+json$/.test(mediaType));
}

/** Rejects nesting deeper than MAX_JSON_DEPTH and keys that could reach an object's prototype. */
export function findStructuralProblem(body: unknown): string | undefined {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: body, depth: 1 }];
  while (pending.length > 0) {
    const { value, depth } = pending.pop()!;
    if (typeof value !== 'object' || value === null) {
      continue;
    }
    if (depth > MAX_JSON_DEPTH) {
      return `JSON nesting deeper than ${MAX_JSON_DEPTH} levels`;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) {
        return `the key '${key}' is not allowed`;
      }
      pending.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * JSON body parsing as part of the Nest pipeline (rather than Express's own), so that every
 * parse failure goes through the problem-details filter like any other error.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parseJson: RequestHandler;

  constructor(config: AppConfig) {
    this.parseJson = json({ limit: config.bodyLimitBytes, strict: true, type: () => true });
  }

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    if (!hasBody(request)) {
      next();
      return;
    }
    if (!isJsonMediaType(request.headers['content-type'])) {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    }
    await new Promise<void>((resolve, reject) => {
      // body-parser reports failures as Errors carrying `type` and `status`.
      void this.parseJson(request, response, (error?: Error | 'route' | 'router') => (error instanceof Error ? reject(error) : resolve()));
    });
    const problem = findStructuralProblem(request.body);
    if (problem !== undefined) {
      throw ApiError.invalidField('body', problem);
    }
    next();
  }
}
