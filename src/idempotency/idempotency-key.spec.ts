import type { IncomingMessage } from 'node:http';
import { idempotencyKeyHeaderOf, parseIdempotencyKeyHeader, resolveIdempotencyKey, tryResolveIdempotencyKey } from './idempotency-key';

const header = (key: string) => ({ key });

describe('resolveIdempotencyKey', () => {
  it('takes the field, the header, or both when equal', () => {
    expect(resolveIdempotencyKey(undefined, 'k1')).toEqual({ key: 'k1' });
    expect(resolveIdempotencyKey(header('k1'), undefined)).toEqual({ key: 'k1' });
    expect(resolveIdempotencyKey(header('k1'), 'k1')).toEqual({ key: 'k1' });
  });

  it('requires one of them', () => {
    expect(resolveIdempotencyKey(undefined, undefined)).toEqual({ issue: { field: 'idempotencyKey', issue: expect.stringContaining('required') } });
  });

  it('refuses a header that differs from the field', () => {
    expect(resolveIdempotencyKey(header('k1'), 'k2')).toEqual({ issue: { field: 'Idempotency-Key', issue: expect.stringContaining('differs') } });
  });

  it('passes on why a header was refused', () => {
    const refused = parseIdempotencyKeyHeader('a, b');
    expect(resolveIdempotencyKey(refused, 'a')).toBe(refused);
  });
});

describe('parseIdempotencyKeyHeader', () => {
  it('takes a bare key as is', () => {
    expect(parseIdempotencyKeyHeader('8e03978e-40d5-43e8-bc93-6894a57f9324')).toEqual({ key: '8e03978e-40d5-43e8-bc93-6894a57f9324' });
    expect(parseIdempotencyKeyHeader('with space')).toEqual({ key: 'with space' });
  });

  it('unquotes a Structured Field string, unescaping \\" and \\\\', () => {
    expect(parseIdempotencyKeyHeader('"abc"')).toEqual({ key: 'abc' });
    expect(parseIdempotencyKeyHeader('"a,b"')).toEqual({ key: 'a,b' });
    expect(parseIdempotencyKeyHeader('"say \\"hi\\" \\\\o/"')).toEqual({ key: 'say "hi" \\o/' });
  });

  it.each([
    ['a list of bare keys', 'a, b'],
    ['a list of strings', '"a", "b"'],
    ['a string with parameters', '"a";p=1'],
    ['an unterminated string', '"abc'],
    ['an escape of another character', '"a\\nb"'],
    ['an empty string', '""'],
    ['an empty value', ''],
    ['a key over 255 characters', 'x'.repeat(256)],
    ['a quoted key over 255 characters', `"${'x'.repeat(256)}"`],
    ['a control character', 'tab\there'],
  ])('refuses %s', (_name, value) => {
    expect(parseIdempotencyKeyHeader(value)).toEqual({ issue: { field: 'Idempotency-Key', issue: expect.any(String) } });
  });
});

describe('idempotencyKeyHeaderOf', () => {
  const request = (rawHeaders: string[]) => {
    const headers: Record<string, string> = {};
    for (let index = 0; index < rawHeaders.length; index += 2) {
      const name = rawHeaders[index].toLowerCase();
      headers[name] = name in headers ? `${headers[name]}, ${rawHeaders[index + 1]}` : rawHeaders[index + 1];
    }
    return { headers, rawHeaders } as unknown as IncomingMessage;
  };

  it('is undefined without the header', () => {
    expect(idempotencyKeyHeaderOf(request(['Content-Type', 'application/json']))).toBeUndefined();
  });

  it('reads the header whatever its case', () => {
    expect(idempotencyKeyHeaderOf(request(['idempotency-KEY', '"k1"']))).toEqual({ key: 'k1' });
  });

  it('refuses the header sent twice, even with the same key', () => {
    expect(idempotencyKeyHeaderOf(request(['Idempotency-Key', 'k1', 'Idempotency-Key', 'k1']))).toEqual({
      issue: { field: 'Idempotency-Key', issue: expect.stringContaining('more than once') },
    });
  });
});

describe('tryResolveIdempotencyKey', () => {
  it('follows the same rule on raw input without throwing', () => {
    expect(tryResolveIdempotencyKey(undefined, 'k1')).toBe('k1');
    expect(tryResolveIdempotencyKey(header('k1'), 'k1')).toBe('k1');
    expect(tryResolveIdempotencyKey(header('k1'), 'k2')).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, 42)).toBeUndefined();
    expect(tryResolveIdempotencyKey(parseIdempotencyKeyHeader('a, b'), undefined)).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, '\u00e9')).toBeUndefined();
    expect(tryResolveIdempotencyKey(undefined, undefined)).toBeUndefined();
  });
});
