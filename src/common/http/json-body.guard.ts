import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { json, type Request, type RequestHandler, type Response } from 'express';
import { isUtf8 } from 'node:buffer';
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

/** An open object (its keys so far, and the one being read) or array (the index being read). */
type Container = { readonly keys: Set<string>; name?: string } | { readonly keys?: undefined; name: number };

/**
 * Whether a JSON number is an integer as written, not only once read: JSON.parse reads
 * -0.99999999999999999 as -1 and 1.0000000000000001 as 1. No digit after the decimal point,
 * once the exponent has moved it, may be other than 0.
 */
export function writtenAsInteger(number: string): boolean {
  const [, whole, fraction = '', exponent = '0'] = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(number) ?? [];
  if (whole === undefined) {
    return false;
  }
  return !/[1-9]/.test((whole + fraction).slice(Math.max(whole.length + Number(exponent), 0)));
}

/** Where a value lies in a JSON document: keys and indices from the top. */
export type JsonPath = ReadonlyArray<string | number>;

/**
 * What a JSON text that JSON.parse accepted says that its parsed value no longer does:
 * - `duplicateKey`, the first key that appears twice in one object: JSON.parse keeps the last
 *   value; a proxy or an audit log reading the first would see another request;
 * - `roundedNumbers`, where a number stands that is not an integer as written (writtenAsInteger)
 *   but is one once read (-0.99999999999999999 reads as -1). Every number of a request is a count,
 *   a version or a duration in whole units.
 */
export function readJsonText(text: string): { readonly duplicateKey?: string; readonly roundedNumbers: readonly JsonPath[] } {
  const containers: Container[] = [];
  const roundedNumbers: JsonPath[] = [];
  let expectingKey = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    const top = containers[containers.length - 1];
    if (char === '"') {
      let end = index + 1;
      while (text[end] !== '"') {
        end += text[end] === '\\' ? 2 : 1;
      }
      if (expectingKey && top?.keys !== undefined) {
        const key = JSON.parse(text.slice(index, end + 1)) as string;
        if (top.keys.has(key)) {
          return { duplicateKey: key, roundedNumbers };
        }
        top.keys.add(key);
        top.name = key;
        expectingKey = false;
      }
      index = end;
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      let end = index + 1;
      while (end < text.length && /[\d.eE+-]/.test(text[end])) {
        end += 1;
      }
      const number = text.slice(index, end);
      // A value that is not an integer once read is already refused by its field's rule.
      if (!writtenAsInteger(number) && Number.isInteger(Number(number))) {
        roundedNumbers.push(containers.map(({ name }) => name!));
      }
      index = end - 1;
    } else if (char === '{') {
      containers.push({ keys: new Set() });
      expectingKey = true;
    } else if (char === '[') {
      containers.push({ name: 0 });
    } else if (char === '}' || char === ']') {
      containers.pop();
    } else if (char === ',' && top !== undefined) {
      if (top.keys === undefined) {
        top.name += 1;
      } else {
        expectingKey = true;
      }
    }
  }
  return { roundedNumbers };
}

/**
 * What stands in the parsed body where a rounded number was written: a value no field of any
 * request takes (not an integer, a string or a boolean), so that each field's own rule refuses it
 * in its own words, an unknown field is told it is unknown, and every other issue of the body is
 * reported with it.
 */
const NOT_AN_INTEGER = 0.5;

/** `body` with NOT_AN_INTEGER at `path`. */
export function withNotAnInteger(body: unknown, path: JsonPath): unknown {
  if (path.length === 0) {
    return NOT_AN_INTEGER;
  }
  let parent = body as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) {
    parent = parent[step] as Record<string | number, unknown>;
  }
  parent[path[path.length - 1]] = NOT_AN_INTEGER;
  return body;
}

/** How Node recognises a request that waits for `100 Continue` (HTTP/1.1 only), and hands it over unanswered. */
const CONTINUE_EXPECTATION = /(?:^|\W)100-continue(?:$|\W)/i;
/** The content codings body-parser decodes; any other is refused (415) without reading the body. */
const DECODED_CODINGS = new Set(['identity', 'gzip', 'deflate', 'br']);

function expectsContinue(request: Request): boolean {
  return request.httpVersion === '1.1' && CONTINUE_EXPECTATION.test(request.headers.expect ?? '');
}

type RequestWithText = Request & { jsonText?: string; notUtf8?: boolean };

/**
 * Refuses a query string on a route that changes something, and reads the JSON body of a
 * request once its caller is authenticated and within its rate — a
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
      // Kept for readJsonText, which needs the text JSON.parse has read.
      // body-parser would decode bytes that are not UTF-8 as U+FFFD and go on.
      verify: (request, _response, buffer) => {
        (request as RequestWithText).notUtf8 = !isUtf8(buffer);
        (request as RequestWithText).jsonText = buffer.toString('utf8');
      },
    });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    // No route that changes stock takes a query parameter: `?dryRun=true` or `?atomic=true` would
    // otherwise be ignored while the change is applied.
    const parameters = request.method !== 'GET' && request.method !== 'HEAD' && request.url.includes('?') ? Object.keys(request.query) : [];
    if (parameters.length > 0) {
      throw ApiError.validation(parameters.map((field) => ({ field, issue: 'unknown query parameter: this route takes none' })));
    }
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
    const response = http.getResponse<Response>();
    if (expectsContinue(request) && DECODED_CODINGS.has((encoding ?? 'identity').trim().toLowerCase())) {
      // Only now, with the caller known and the body's type and length acceptable, is the client
      // asked for the body (the server hands such requests over unanswered: ExpressRequestsAdapter).
      response.writeContinue();
    }
    await new Promise<void>((resolve, reject) => {
      // body-parser reports failures as Errors carrying `type` and `status`.
      void this.parseJson(request, response, (error?: Error | 'route' | 'router') => (error instanceof Error ? reject(error) : resolve()));
    });
    const { notUtf8, jsonText } = request as RequestWithText;
    (request as RequestWithText).jsonText = undefined;
    if (notUtf8 === true) {
      throw ApiError.invalidField('body', 'is not valid UTF-8');
    }
    if (jsonText === '') {
      // A chunked body of no bytes is no body, as one of Content-Length 0 (body-parser makes it {}).
      request.body = undefined;
      return true;
    }
    const structural = findStructuralProblem(request.body);
    if (structural !== undefined) {
      throw ApiError.invalidField('body', structural);
    }
    const { duplicateKey, roundedNumbers } = readJsonText(jsonText ?? '');
    if (duplicateKey !== undefined) {
      throw ApiError.invalidField('body', `has the key '${duplicateKey}' twice in one object`);
    }
    request.body = roundedNumbers.reduce(withNotAnInteger, request.body);
    return true;
  }
}
