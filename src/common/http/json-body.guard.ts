import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { json, type Request, type RequestHandler, type Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { ApiError } from '../errors/api-error';

/** Deeper than any valid request (a batch is body → updates → item → value). */
export const MAX_JSON_DEPTH = 8;
/** More fields than any object of any request has; a body with more is refused before it is validated field by field. */
export const MAX_OBJECT_FIELDS = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** application/json or application/*+json, in UTF-8 (the charset JSON is exchanged in, RFC 8259). */
function mediaTypeProblem(contentType: string | undefined): string | undefined {
  const [type, ...parameters] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(type)) {
    return 'send the body as application/json';
  }
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/^"|"$/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return `send the body as UTF-8 JSON (not ${charset})`;
  }
  return undefined;
}

/**
 * Rejects nesting deeper than MAX_JSON_DEPTH, objects with more than MAX_OBJECT_FIELDS fields,
 * and keys that could reach an object's prototype.
 */
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
    const keys = Object.keys(value);
    if (!Array.isArray(value) && keys.length > MAX_OBJECT_FIELDS) {
      return `an object with more than ${MAX_OBJECT_FIELDS} fields`;
    }
    for (const key of keys) {
      if (FORBIDDEN_KEYS.has(key)) {
        return `the key '${key}' is not allowed`;
      }
      pending.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * The first key that appears twice in one object of a JSON text JSON.parse accepted, or
 * undefined. JSON.parse keeps the last value; a proxy or an audit log reading the first would see
 * another request.
 */
export function findDuplicateKey(text: string): string | undefined {
  // One entry per open container: the keys of an object so far, or undefined for an array.
  const containers: Array<Set<string> | undefined> = [];
  let expectingKey = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '"') {
      let end = index + 1;
      while (text[end] !== '"') {
        end += text[end] === '\\' ? 2 : 1;
      }
      if (expectingKey) {
        const key = JSON.parse(text.slice(index, end + 1)) as string;
        const keys = containers[containers.length - 1]!;
        if (keys.has(key)) {
          return key;
        }
        keys.add(key);
        expectingKey = false;
      }
      index = end;
    } else if (char === '{') {
      containers.push(new Set());
      expectingKey = true;
    } else if (char === '[') {
      containers.push(undefined);
    } else if (char === '}' || char === ']') {
      containers.pop();
    } else if (char === ',') {
      expectingKey = containers[containers.length - 1] !== undefined;
    }
  }
  return undefined;
}

type RequestWithText = Request & { jsonText?: string };

/**
 * Reads the JSON body of a request once its caller is authenticated and within its rate — a
 * guard, so it runs after those (middleware would run before them, and anyone without a key could
 * make the service inflate and parse bodies) and before the interceptors and pipes that use it.
 * Every failure goes through the problem-details filter like any other error.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  private readonly parseJson: RequestHandler;
  private readonly limit: number;

  constructor(config: AppConfig) {
    this.limit = config.bodyLimitBytes;
    this.parseJson = json({
      limit: config.bodyLimitBytes,
      strict: true,
      type: () => true,
      // Kept for the duplicate-key check, which needs the text JSON.parse has read.
      verify: (request, _response, buffer) => {
        (request as RequestWithText).jsonText = buffer.toString('utf8');
      },
    });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    if (!hasBody(request)) {
      return true;
    }
    const problem = mediaTypeProblem(request.headers['content-type']);
    if (problem !== undefined) {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', problem);
    }
    const encoding = request.headers['content-encoding'];
    if ((encoding === undefined || encoding === 'identity') && Number(request.headers['content-length']) > this.limit) {
      // Refused before a byte of it is read: body-parser would first read all of it, at the
      // client's pace (the answer then closes the connection, as every refusal of an unread body).
      throw new ApiError('PAYLOAD_TOO_LARGE', 'the request body exceeds the size limit');
    }
    await new Promise<void>((resolve, reject) => {
      // body-parser reports failures as Errors carrying `type` and `status`.
      void this.parseJson(request, http.getResponse<Response>(), (error?: Error | 'route' | 'router') => (error instanceof Error ? reject(error) : resolve()));
    });
    const structural = findStructuralProblem(request.body);
    if (structural !== undefined) {
      throw ApiError.invalidField('body', structural);
    }
    const duplicate = findDuplicateKey((request as RequestWithText).jsonText ?? '');
    (request as RequestWithText).jsonText = undefined;
    if (duplicate !== undefined) {
      throw ApiError.invalidField('body', `has the key '${duplicate}' twice in one object`);
    }
    return true;
  }
}
