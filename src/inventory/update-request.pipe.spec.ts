import fc from 'fast-check';
import { ApiError } from '../common/errors/api-error';
import { SystemClock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import { IdempotencyCache } from '../idempotency/idempotency-cache';
import { IdempotencyFastPath } from '../idempotency/idempotency-fast-path';
import { parseIdempotencyKeyHeader } from '../idempotency/idempotency-key';
import { Metrics } from '../metrics/metrics';
import { type UpdateRequest, UpdateRequestPipe } from './update-request.pipe';

/**
 * Property-based tests of the update endpoint's validation layer. The expected outcome of every
 * input comes from an independent reference predicate written from the documented rules
 * (README "API" and "Idempotency", the DTO field rules), not from the validators themselves.
 */

// ---------------------------------------------------------------------------------------------
// The rules, restated independently
// ---------------------------------------------------------------------------------------------

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_ABS_DELTA = 1_000_000_000;
const MAX_BATCH = 100;
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-';
const SINGLE_FIELDS = ['storeId', 'productId', 'delta', 'version', 'idempotencyKey', 'reason', 'reference'];
const BATCH_FIELDS = ['storeId', 'atomic', 'updates'];
const ITEM_FIELDS = ['productId', 'delta', 'version', 'idempotencyKey', 'reason', 'reference'];
/**
 * Interpretation (not stated by the README): JSON `null` in an *optional* field (`idempotencyKey`
 * of a single update, `atomic` of a batch) counts as the field being absent, as the service does
 * today. Set to false to demand that null be refused as "wrong type".
 */
const NULL_OPTIONAL_IS_ABSENT = false;

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= 64 && [...value].every((char) => ID_CHARS.includes(char));
}

function isIdempotencyKey(value: unknown): value is string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 255) {
    return false;
  }
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code > 0x7e) {
      return false;
    }
  }
  return true;
}

function isDelta(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value !== 0 && Math.abs(value) <= MAX_ABS_DELTA;
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_SAFE;
}

/** A lowercase token: a letter, then up to 63 of a-z 0-9 _. */
function isReason(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(value);
}

/** 1-255 printable ASCII characters, like an idempotency key. */
function isReference(value: unknown): value is string {
  return isIdempotencyKey(value);
}

/** The optional reason and reference of an update or item: undefined if either is invalid. */
function noteOf(fields: Json): { reason?: string; reference?: string } | undefined {
  const note: { reason?: string; reference?: string } = {};
  if (!absent(fields, 'reason')) {
    if (!isReason(fields.reason)) {
      return undefined;
    }
    note.reason = fields.reason;
  }
  if (!absent(fields, 'reference')) {
    if (!isReference(fields.reference)) {
      return undefined;
    }
    note.reference = fields.reference;
  }
  return note;
}

function onlyFields(body: Json, allowed: readonly string[]): boolean {
  return Object.keys(body).every((key) => allowed.includes(key));
}

function absent(body: Json, field: string): boolean {
  return !Object.prototype.hasOwnProperty.call(body, field) || body[field] === undefined || (NULL_OPTIONAL_IS_ABSENT && body[field] === null);
}

/** What the pipe must answer for this input: the parsed request, or undefined for a 400. */
function reference(body: unknown, header: string | undefined): UpdateRequest | undefined {
  if (!isPlainObject(body)) {
    return undefined;
  }
  if (Object.prototype.hasOwnProperty.call(body, 'updates')) {
    return referenceBatch(body, header);
  }
  return referenceSingle(body, header);
}

function referenceSingle(body: Json, header: string | undefined): UpdateRequest | undefined {
  const { storeId, productId, delta, version } = body;
  if (!onlyFields(body, SINGLE_FIELDS) || !isIdentifier(storeId) || !isIdentifier(productId) || !isDelta(delta) || !isVersion(version)) {
    return undefined;
  }
  const field = absent(body, 'idempotencyKey') ? undefined : body.idempotencyKey;
  if (field !== undefined && !isIdempotencyKey(field)) {
    return undefined;
  }
  if (header !== undefined && !isIdempotencyKey(header)) {
    return undefined;
  }
  if (field !== undefined && header !== undefined && field !== header) {
    return undefined;
  }
  const key = field ?? header;
  const note = noteOf(body);
  if (key === undefined || note === undefined) {
    return undefined;
  }
  return { kind: 'single', command: { storeId, productId, delta, expectedVersion: version, idempotencyKey: key, ...note } };
}

function referenceBatch(body: Json, header: string | undefined): UpdateRequest | undefined {
  const { storeId, updates } = body;
  const atomic = absent(body, 'atomic') ? undefined : body.atomic;
  if (header !== undefined || !onlyFields(body, BATCH_FIELDS) || !isIdentifier(storeId)) {
    return undefined;
  }
  if (atomic !== undefined && typeof atomic !== 'boolean') {
    return undefined;
  }
  if (!Array.isArray(updates) || updates.length < 1 || updates.length > MAX_BATCH) {
    return undefined;
  }
  const items = updates as unknown[];
  const valid = items.every(
    (item) =>
      isPlainObject(item) &&
      onlyFields(item, ITEM_FIELDS) &&
      isIdentifier(item.productId) &&
      isDelta(item.delta) &&
      isVersion(item.version) &&
      isIdempotencyKey(item.idempotencyKey) &&
      noteOf(item) !== undefined,
  );
  if (!valid) {
    return undefined;
  }
  const typed = items as Array<{ productId: string; delta: number; version: number; idempotencyKey: string }>;
  if (new Set(typed.map((item) => item.idempotencyKey)).size !== typed.length) {
    return undefined;
  }
  return {
    kind: 'batch',
    storeId,
    atomic: atomic ?? false,
    commands: typed.map((item) => ({
      storeId,
      productId: item.productId,
      delta: item.delta,
      expectedVersion: item.version,
      idempotencyKey: item.idempotencyKey,
      ...noteOf(item as unknown as Json),
    })),
  };
}

/**
 * The JSON body middleware runs before the pipe and refuses these keys and deep nesting
 * (README: "Unknown body fields are refused … so are the keys __proto__, constructor, prototype
 * and JSON nested deeper than 8 levels"); the pipe is only ever given bodies that passed it.
 */
const MIDDLEWARE_FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

function passesJsonMiddleware(value: unknown, depth = 1): boolean {
  if (typeof value !== 'object' || value === null) {
    return true;
  }
  if (depth > 8) {
    return false;
  }
  return Object.keys(value).every((key) => !MIDDLEWARE_FORBIDDEN_KEYS.includes(key) && passesJsonMiddleware((value as Json)[key], depth + 1));
}

/** As body-parser would hand it over: JSON.parse of the serialised value. */
function asParsedJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// ---------------------------------------------------------------------------------------------
// Running the pipe
// ---------------------------------------------------------------------------------------------

type Outcome = { readonly ok: true; readonly value: UpdateRequest } | { readonly ok: false; readonly error: unknown };

/**
 * `header` is the key a client means to send; it goes on the wire as a Structured Field string
 * (quoted, `"` and `\\` escaped), so every key string — commas and quotes included — reaches
 * the pipe through the header parser.
 */
// Nothing is cached: every input is validated.
const pipe = new UpdateRequestPipe(new IdempotencyFastPath(new IdempotencyCache({ idempotencyCacheSize: 10 } as AppConfig, new SystemClock()), new Metrics()));

async function run(body: unknown, header: string | undefined): Promise<Outcome> {
  const idempotencyKeyHeader = header === undefined ? undefined : parseIdempotencyKeyHeader(`"${header.replace(/[\\"]/g, (char) => `\\${char}`)}"`);
  try {
    return { ok: true, value: await pipe.transform({ body, idempotencyKeyHeader, clientId: 'client-a' }) };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeInput(body: unknown, header: string | undefined): string {
  return `body=${JSON.stringify(body)} header=${JSON.stringify(header)}`;
}

/** A 400 of the documented shape: VALIDATION_FAILED with a non-empty list of {field, issue}. */
function validationFields(outcome: Outcome, input: string): string[] {
  if (outcome.ok) {
    throw new Error(`accepted, expected VALIDATION_FAILED: ${input} -> ${JSON.stringify(outcome.value)}`);
  }
  const { error } = outcome;
  if (!(error instanceof ApiError) || error.code !== 'VALIDATION_FAILED') {
    throw new Error(`expected ApiError VALIDATION_FAILED, got ${String(error)}: ${input}`);
  }
  const errors: unknown = error.options.errors;
  if (!Array.isArray(errors) || errors.length === 0) {
    throw new Error(`VALIDATION_FAILED without errors: ${input}`);
  }
  const fields: string[] = [];
  for (const issue of errors as unknown[]) {
    if (!isPlainObject(issue) || typeof issue.field !== 'string' || typeof issue.issue !== 'string' || issue.issue.length === 0) {
      throw new Error(`malformed field issue ${JSON.stringify(issue)}: ${input}`);
    }
    fields.push(issue.field);
  }
  return fields;
}

// ---------------------------------------------------------------------------------------------
// Generators of valid input
// ---------------------------------------------------------------------------------------------

const idChar = fc.constantFrom(...ID_CHARS);
const identifier = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: idChar, minLength: 1, maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: idChar, minLength: 64, maxLength: 64 }) },
  { weight: 1, arbitrary: fc.constantFrom('.', '..', '-', ':', '_', '0', '__proto__', 'constructor', 'toString', 'SKU-001', 'a'.repeat(64)) },
);

const printableChar = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const idempotencyKey = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: printableChar, minLength: 1, maxLength: 255 }) },
  { weight: 1, arbitrary: fc.string({ unit: printableChar, minLength: 255, maxLength: 255 }) },
  { weight: 1, arbitrary: fc.constantFrom(' ', '   ', '~', '"', '\\', '{"a":1}', 'key with spaces', '!#$%&()*+,/;<=>?@[]^`{|}', 'k'.repeat(255)) },
);

const delta = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -MAX_ABS_DELTA, max: -1 }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: MAX_ABS_DELTA }) },
  { weight: 2, arbitrary: fc.constantFrom(1, -1, MAX_ABS_DELTA, -MAX_ABS_DELTA) },
);

const version = fc.oneof(
  { weight: 4, arbitrary: fc.nat() },
  { weight: 2, arbitrary: fc.maxSafeNat() },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, MAX_SAFE, MAX_SAFE - 1) },
);

type KeyVia = 'field' | 'header' | 'both';

interface SingleRequest {
  readonly body: Json;
  readonly header: string | undefined;
  readonly keyVia: KeyVia;
  readonly key: string;
}

const reasonChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_');
const reason = fc.oneof(
  fc.constantFrom('sale', 'return', 'received', 'damaged', 'cycle_count', 'a', 'z'.repeat(64)),
  fc.tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), fc.string({ unit: reasonChar, maxLength: 63 })).map(([first, rest]) => first + rest),
);
/** Sometimes a reason, sometimes a reference, sometimes both, often neither. */
const note = fc.record({ reason, reference: idempotencyKey }, { requiredKeys: [] });

const validSingle: fc.Arbitrary<SingleRequest> = fc
  .record({ storeId: identifier, productId: identifier, delta, version, key: idempotencyKey, keyVia: fc.constantFrom<KeyVia>('field', 'header', 'both'), note })
  .map(({ key, keyVia, note: changeNote, ...fields }) => ({
    body: keyVia === 'header' ? { ...fields, ...changeNote } : { ...fields, ...changeNote, idempotencyKey: key },
    header: keyVia === 'field' ? undefined : key,
    keyVia,
    key,
  }));

const batchItem = fc.record({ productId: identifier, delta, version, idempotencyKey, note }).map(({ note: changeNote, ...item }) => ({ ...item, ...changeNote }));

function batchItems(minLength: number, maxLength: number) {
  return fc.uniqueArray(batchItem, { minLength, maxLength, selector: (item) => item.idempotencyKey });
}

const atomicField = fc.constantFrom<{ atomic?: boolean }>({}, { atomic: true }, { atomic: false });

interface BatchRequest {
  readonly body: { storeId: string; atomic?: boolean; updates: Json[] };
}

function batchOf(updates: fc.Arbitrary<Json[]>): fc.Arbitrary<BatchRequest> {
  return fc.record({ storeId: identifier, atomic: atomicField, updates }).map(({ storeId, atomic, updates: items }) => ({ body: { storeId, ...atomic, updates: items } }));
}

/** Up to the 100-item limit (property B). */
const validBatch = batchOf(fc.oneof({ weight: 6, arbitrary: batchItems(1, 8) }, { weight: 1, arbitrary: batchItems(MAX_BATCH, MAX_BATCH) }));
/** Small batches, which shrink quickly, for the properties that mutate them (C, D). */
const smallBatch = batchOf(batchItems(1, 8));

// ---------------------------------------------------------------------------------------------
// Generators of invalid values
// ---------------------------------------------------------------------------------------------

const NOT_STRINGS: unknown[] = [0, 1, -1, true, false, null, [], ['a'], {}, { a: 'b' }];
/** Characters outside [A-Za-z0-9._:-]: look-alikes, separators, controls, non-ASCII. */
const BAD_ID_CHARS = [
  ' ', '/', '#', '?', '%', '+', '*', '@', '~', '\\', '"', "'", ',', ';', '=', '[', ']', '{', '}', '\n', '\r', '\t', '\u0000', '\u001f', '\u007f',
  '\u00a0', '\u2010', '\u2011', '\u2013', '\u2212', '\u0410', '\u0430', '\u043e', '\u041e', '\uff21', '\uff11', '\u200b', '\ufeff', '\u00e9', '\u0131', '\ud83d\ude00',
];
/** Outside \x20-\x7e: controls, DEL, non-ASCII look-alikes. */
const BAD_KEY_CHARS = ['\n', '\r', '\t', '\u0000', '\u001b', '\u007f', '\u0080', '\u00a0', '\u00e9', '\u0435', '\u043a', '\uff4b', '\u2010', '\u200b', '\ufeff', '\ud83d\ude00', '\ud800'];

function withBadChar(valid: fc.Arbitrary<string>, badChars: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(valid, fc.constantFrom(...badChars), fc.nat())
    .map(([value, bad, at]) => {
      const position = at % (value.length + 1);
      return value.slice(0, position) + bad + value.slice(position);
    });
}

const badIdentifier: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NOT_STRINGS),
  fc.constantFrom('', 'a'.repeat(65), 'SKU\u2010001', 'SKU\u2013001', '\u0410BC', '\uff33KU-1', 'sku\n', '\tsku', 'a b', 'caf\u00e9'),
  fc.string({ unit: idChar, minLength: 65, maxLength: 100 }),
  withBadChar(fc.string({ unit: idChar, minLength: 0, maxLength: 63 }), BAD_ID_CHARS),
);

const NAN_LIKE = ['5', '-5', '0', 'NaN', 'Infinity', '-Infinity', '1e3', '0x10', ' 5', '5 ', '', 'five', '1_000'];

const badDelta: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(0, -0, MAX_ABS_DELTA + 1, -MAX_ABS_DELTA - 1, 2 ** 53, -(2 ** 53), 1.5, -0.5, 1e-9, NaN, Infinity, -Infinity, true, false, null, [], [1], {}, { value: 1 }),
  fc.constantFrom(...NAN_LIKE),
  fc.integer({ min: MAX_ABS_DELTA + 1, max: MAX_SAFE }),
  fc.integer({ min: -MAX_SAFE, max: -MAX_ABS_DELTA - 1 }),
  fc.double({ min: -MAX_ABS_DELTA, max: MAX_ABS_DELTA, noNaN: true }).filter((value) => !Number.isInteger(value)),
);

const badVersion: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(-1, -MAX_SAFE, 2 ** 53, 2 ** 53 + 2, 1e300, 0.5, 1.5, NaN, Infinity, -Infinity, true, null, [], [0], {}),
  fc.constantFrom(...NAN_LIKE),
  fc.integer({ min: -MAX_SAFE, max: -1 }),
  fc.double({ min: 0, max: 1e15, noNaN: true }).filter((value) => !Number.isInteger(value)),
);

/** Invalid key strings (a header can only be a string). */
const badKeyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', 'x'.repeat(256), '\n', 'a\tb', 'x\u007f', 'caf\u00e9', '\u00a0', '\uff4bey', '\u043aey', '\u0000', '\ud83d\ude00'),
  fc.string({ unit: printableChar, minLength: 256, maxLength: 300 }),
  withBadChar(fc.string({ unit: printableChar, minLength: 0, maxLength: 254 }), BAD_KEY_CHARS),
);
const badKeyValue: fc.Arbitrary<unknown> = fc.oneof(badKeyString, fc.constantFrom<unknown>(1, 0, true, false, [], ['k'], {}, { key: 'k' }));

/**
 * Names no update accepts. The Object.prototype member names are included on purpose: the
 * README promises that unknown fields are refused, whatever they are called.
 */
const UNKNOWN_FIELDS = ['extra', 'quantity', 'storeID', 'Delta', 'expectedVersion', 'idempotency_key', 'id', 'a.b', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'toLocaleString'];
const unknownField = fc.constantFrom(...UNKNOWN_FIELDS);
const anyJson = fc.jsonValue({ maxDepth: 2 });

function badValueOf(field: string): fc.Arbitrary<unknown> {
  switch (field) {
    case 'storeId':
    case 'productId':
      return badIdentifier;
    case 'delta':
      return badDelta;
    case 'version':
      return badVersion;
    case 'reason':
      return badReason;
    default:
      return badKeyValue;
  }
}

/** Not a lowercase token: capitals, a leading digit or underscore, punctuation, too long, not a string, null. */
const badReason: fc.Arbitrary<unknown> = fc.constantFrom<unknown>('', 'Sale', 'sale!', '1sale', '_sale', 'cycle count', 'caf\u00e9', 'a'.repeat(65), 5, true, null, [], {});

function without(body: Json, field: string): Json {
  const copy = { ...body };
  delete copy[field];
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Mutations: one fault in an otherwise valid request, and the field the 400 must name
// ---------------------------------------------------------------------------------------------

interface Mutation {
  readonly name: string;
  readonly body: unknown;
  readonly header: string | undefined;
  /** Every reported field must be this one (or, with `orBelow`, a path under it). */
  readonly field: string;
  readonly orBelow?: boolean;
}

// Faults are plain data drawn independently of the request and applied with `map` (no `chain`),
// so that fast-check can shrink a failure down to a small request and a simple fault.

const REQUIRED_SINGLE_FIELDS = ['storeId', 'productId', 'delta', 'version'];
const REQUIRED_ITEM_FIELDS = ['productId', 'delta', 'version', 'idempotencyKey'];
/** Optional fields that, when present, must be valid (null included). */
const NOTE_FIELDS = ['reason', 'reference'];

type SingleFault =
  | { readonly kind: 'drop'; readonly field: string }
  | { readonly kind: 'bad'; readonly field: string; readonly value: unknown }
  | { readonly kind: 'no key' }
  | { readonly kind: 'bad key field'; readonly value: unknown }
  | { readonly kind: 'bad key header'; readonly value: string }
  | { readonly kind: 'unknown'; readonly field: string; readonly value: unknown }
  | { readonly kind: 'mismatch'; readonly other: string };

const singleFault: fc.Arbitrary<SingleFault> = fc.oneof(
  fc.constantFrom(...REQUIRED_SINGLE_FIELDS).map((field): SingleFault => ({ kind: 'drop', field })),
  fc.oneof(...[...REQUIRED_SINGLE_FIELDS, ...NOTE_FIELDS].map((field) => badValueOf(field).map((value): SingleFault => ({ kind: 'bad', field, value })))),
  fc.constant<SingleFault>({ kind: 'no key' }),
  badKeyValue.map((value): SingleFault => ({ kind: 'bad key field', value })),
  badKeyString.map((value): SingleFault => ({ kind: 'bad key header', value })),
  fc.tuple(unknownField, anyJson).map(([field, value]): SingleFault => ({ kind: 'unknown', field, value })),
  idempotencyKey.map((other): SingleFault => ({ kind: 'mismatch', other })),
);

function applySingleFault({ body, header, key }: SingleRequest, fault: SingleFault): Mutation {
  switch (fault.kind) {
    case 'drop':
      return { name: `drop ${fault.field}`, body: without(body, fault.field), header, field: fault.field };
    case 'bad':
      return { name: `bad ${fault.field}`, body: { ...body, [fault.field]: fault.value }, header, field: fault.field };
    case 'no key':
      return { name: 'no key at all', body: without(body, 'idempotencyKey'), header: undefined, field: 'idempotencyKey' };
    case 'bad key field':
      return { name: 'bad idempotencyKey field', body: { ...body, idempotencyKey: fault.value }, header, field: 'idempotencyKey' };
    case 'bad key header':
      return { name: 'bad Idempotency-Key header', body, header: fault.value, field: 'Idempotency-Key' };
    case 'unknown':
      return { name: `unknown field ${fault.field}`, body: { ...body, [fault.field]: fault.value }, header, field: fault.field };
    case 'mismatch': {
      const other = fault.other === key ? `${key.slice(0, 254)}${key.endsWith('x') ? 'y' : 'x'}` : fault.other;
      return { name: 'header differs from field', body: { ...body, idempotencyKey: key }, header: other, field: 'Idempotency-Key' };
    }
  }
}

const singleMutation: fc.Arbitrary<Mutation> = fc.tuple(validSingle, singleFault).map(([request, fault]) => applySingleFault(request, fault));

type BatchFault =
  | { readonly kind: 'drop storeId' }
  | { readonly kind: 'bad storeId'; readonly value: unknown }
  | { readonly kind: 'bad atomic'; readonly value: unknown }
  | { readonly kind: 'bad updates'; readonly value: unknown }
  | { readonly kind: 'too many'; readonly extra: readonly Json[] }
  | { readonly kind: 'header'; readonly value: string }
  | { readonly kind: 'unknown'; readonly field: string; readonly value: unknown }
  | { readonly kind: 'drop item field'; readonly at: number; readonly field: string }
  | { readonly kind: 'bad item field'; readonly at: number; readonly field: string; readonly value: unknown }
  | { readonly kind: 'unknown item field'; readonly at: number; readonly field: string; readonly value: unknown }
  | { readonly kind: 'item not an object'; readonly at: number; readonly value: unknown }
  | { readonly kind: 'duplicate key'; readonly first: number; readonly second: number };

const SOME_ITEM = { productId: 'SKU-1', delta: 1, version: 0, idempotencyKey: 'item-key' };

const batchFault: fc.Arbitrary<BatchFault> = fc.oneof(
  fc.constant<BatchFault>({ kind: 'drop storeId' }),
  badIdentifier.map((value): BatchFault => ({ kind: 'bad storeId', value })),
  fc.constantFrom<unknown>('true', 'false', 1, 0, [], [true], {}, 'yes').map((value): BatchFault => ({ kind: 'bad atomic', value })),
  fc.constantFrom<unknown>(null, 'updates', 1, true, {}, { 0: SOME_ITEM }, [], '[]').map((value): BatchFault => ({ kind: 'bad updates', value })),
  batchItems(MAX_BATCH + 1, MAX_BATCH + 10).map((extra): BatchFault => ({ kind: 'too many', extra })),
  idempotencyKey.map((value): BatchFault => ({ kind: 'header', value })),
  fc.tuple(unknownField, anyJson).map(([field, value]): BatchFault => ({ kind: 'unknown', field, value })),
  fc.tuple(fc.nat(), fc.constantFrom(...REQUIRED_ITEM_FIELDS)).map(([at, field]): BatchFault => ({ kind: 'drop item field', at, field })),
  fc.oneof(
    ...ITEM_FIELDS.map((field) =>
      fc.tuple(fc.nat(), field === 'idempotencyKey' ? fc.oneof(badKeyValue, fc.constant(null)) : badValueOf(field)).map(([at, value]): BatchFault => ({ kind: 'bad item field', at, field, value })),
    ),
  ),
  fc.tuple(fc.nat(), unknownField, anyJson).map(([at, field, value]): BatchFault => ({ kind: 'unknown item field', at, field, value })),
  fc.tuple(fc.nat(), fc.constantFrom<unknown>(null, 1, 'item', true, [], [1], [SOME_ITEM])).map(([at, value]): BatchFault => ({ kind: 'item not an object', at, value })),
  fc.tuple(fc.nat(), fc.nat()).map(([first, second]): BatchFault => ({ kind: 'duplicate key', first, second })),
);

function applyBatchFault({ body }: BatchRequest, fault: BatchFault): Mutation {
  const items = body.updates;
  const withItem = (index: number, item: unknown) => ({ ...body, updates: items.map((original, at) => (at === index ? item : original)) });
  const header = undefined;
  switch (fault.kind) {
    case 'drop storeId':
      return { name: fault.kind, body: without(body, 'storeId'), header, field: 'storeId' };
    case 'bad storeId':
      return { name: fault.kind, body: { ...body, storeId: fault.value }, header, field: 'storeId' };
    case 'bad atomic':
      return { name: fault.kind, body: { ...body, atomic: fault.value }, header, field: 'atomic' };
    case 'bad updates':
      return { name: 'updates not a 1-100 array', body: { ...body, updates: fault.value }, header, field: 'updates', orBelow: true };
    case 'too many': {
      // Unique keys: the originals and the extra ones may only collide by chance; rename the extra ones.
      const extra = fault.extra.map((item, index) => ({ ...item, idempotencyKey: `extra-${index}` }));
      const updates = [...items.map((item, index) => ({ ...item, idempotencyKey: `original-${index}` })), ...extra];
      return { name: `${updates.length} updates`, body: { ...body, updates }, header, field: 'updates' };
    }
    case 'header':
      return { name: 'header on a batch', body, header: fault.value, field: 'Idempotency-Key' };
    case 'unknown':
      return { name: `unknown batch field ${fault.field}`, body: { ...body, [fault.field]: fault.value }, header, field: fault.field };
    case 'drop item field': {
      const at = fault.at % items.length;
      return { name: `drop updates[${at}].${fault.field}`, body: withItem(at, without(items[at], fault.field)), header, field: `updates[${at}].${fault.field}` };
    }
    case 'bad item field': {
      const at = fault.at % items.length;
      return { name: `bad updates[${at}].${fault.field}`, body: withItem(at, { ...items[at], [fault.field]: fault.value }), header, field: `updates[${at}].${fault.field}` };
    }
    case 'unknown item field': {
      const at = fault.at % items.length;
      return { name: `unknown item field ${fault.field}`, body: withItem(at, { ...items[at], [fault.field]: fault.value }), header, field: `updates[${at}].${fault.field}` };
    }
    case 'item not an object': {
      const at = fault.at % items.length;
      return { name: `updates[${at}] not an object`, body: withItem(at, fault.value), header, field: `updates[${at}]`, orBelow: true };
    }
    case 'duplicate key': {
      if (items.length < 2) {
        const copy = { ...items[0], productId: 'other' };
        return { name: 'duplicate key in batch', body: { ...body, updates: [items[0], copy] }, header, field: 'updates[1].idempotencyKey' };
      }
      const first = fault.first % (items.length - 1);
      const second = first + 1 + (fault.second % (items.length - 1 - first));
      return {
        name: 'duplicate key in batch',
        body: withItem(second, { ...items[second], idempotencyKey: items[first].idempotencyKey }),
        header,
        field: `updates[${second}].idempotencyKey`,
      };
    }
  }
}

const batchMutation: fc.Arbitrary<Mutation> = fc.tuple(smallBatch, batchFault).map(([request, fault]) => applyBatchFault(request, fault));

const notAnObject: fc.Arbitrary<Mutation> = fc
  .tuple(fc.constantFrom<unknown>(null, [], [{}], 'body', '', 42, 0, true, false), fc.option(idempotencyKey, { nil: undefined }))
  .map(([body, header]) => ({ name: 'body not an object', body, header, field: 'body' }));

function namesOnly(fields: readonly string[], mutation: Mutation): boolean {
  return fields.every(
    (field) => field === mutation.field || (mutation.orBelow === true && (field.startsWith(`${mutation.field}[`) || field.startsWith(`${mutation.field}.`))),
  );
}

// ---------------------------------------------------------------------------------------------
// Arbitrary JSON requests, mostly near-valid so that acceptance is not always the same answer
// ---------------------------------------------------------------------------------------------

const FIELD_NAMES = [...new Set([...SINGLE_FIELDS, ...BATCH_FIELDS, ...ITEM_FIELDS, ...UNKNOWN_FIELDS])];

/** Set a field to any JSON value, delete a field, or leave the object alone. */
type Perturbation = { readonly kind: 'set'; readonly field: string; readonly value: unknown } | { readonly kind: 'delete'; readonly field: string } | { readonly kind: 'none' };

const perturbation: fc.Arbitrary<Perturbation> = fc.oneof(
  fc.constant<Perturbation>({ kind: 'none' }),
  fc.tuple(fc.constantFrom(...FIELD_NAMES), fc.jsonValue({ maxDepth: 3 })).map(([field, value]): Perturbation => ({ kind: 'set', field, value })),
  fc.constantFrom(...FIELD_NAMES).map((field): Perturbation => ({ kind: 'delete', field })),
);

function perturb(object: Json, change: Perturbation): Json {
  switch (change.kind) {
    case 'set':
      return { ...object, [change.field]: change.value };
    case 'delete':
      return without(object, change.field);
    case 'none':
      return object;
  }
}

const anyHeader = fc.option(fc.oneof(idempotencyKey, fc.string(), fc.string({ unit: 'binary', maxLength: 5 })), { nil: undefined, freq: 2 });

const arbitraryRequest: fc.Arbitrary<{ body: unknown; header: string | undefined }> = fc
  .oneof(
    fc.record({ body: fc.jsonValue({ maxDepth: 4 }), header: anyHeader }),
    fc.record({ body: fc.dictionary(fc.constantFrom(...FIELD_NAMES), fc.jsonValue({ maxDepth: 3 })), header: anyHeader }),
    fc
      .tuple(validSingle, perturbation, fc.constantFrom('as generated', 'as key', 'any'), anyHeader)
      .map(([request, change, headerChoice, other]) => ({
        body: perturb(request.body, change),
        header: headerChoice === 'as generated' ? request.header : headerChoice === 'as key' ? request.key : other,
      })),
    fc
      .tuple(smallBatch, perturbation, fc.nat(), perturbation, fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyHeader }))
      .map(([{ body }, change, at, itemChange, header]) => {
        const index = at % body.updates.length;
        const updates = body.updates.map((item, position) => (position === index ? perturb(item, itemChange) : item));
        return { body: perturb({ ...body, updates }, change), header };
      }),
  )
  .map(({ body, header }) => ({ body: asParsedJson(body), header }))
  .filter(({ body }) => passesJsonMiddleware(body));

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('UpdateRequestPipe (property-based)', () => {
  it('A: accepts every valid single update; the command is the input', async () => {
    await fc.assert(
      fc.asyncProperty(validSingle, async ({ body, header, key }) => {
        const outcome = await run(body, header);
        expect(outcome).toEqual({
          ok: true,
          value: {
            kind: 'single',
            command: { storeId: body.storeId, productId: body.productId, delta: body.delta, expectedVersion: body.version, idempotencyKey: key, ...noteOf(body) },
          },
        });
        expect(reference(body, header)).toEqual(outcome.ok ? outcome.value : undefined);
      }),
      { numRuns: 400 },
    );
  });

  it('B: accepts every valid batch; commands in order, storeId copied, atomic defaulting to false', async () => {
    await fc.assert(
      fc.asyncProperty(validBatch, async ({ body }) => {
        const outcome = await run(body, undefined);
        expect(outcome).toEqual({
          ok: true,
          value: {
            kind: 'batch',
            storeId: body.storeId,
            atomic: body.atomic ?? false,
            commands: body.updates.map((item) => ({
              storeId: body.storeId,
              productId: item.productId,
              delta: item.delta,
              expectedVersion: item.version,
              idempotencyKey: item.idempotencyKey,
              ...noteOf(item),
            })),
          },
        });
        expect(reference(body, undefined)).toEqual(outcome.ok ? outcome.value : undefined);
      }),
      { numRuns: 200 },
    );
  });

  it('C: refuses every single fault with VALIDATION_FAILED naming exactly the faulty field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(singleMutation, batchMutation, notAnObject), async (mutation) => {
        const input = `${mutation.name}: ${describeInput(mutation.body, mutation.header)}`;
        // The mutation really breaks a rule (checks the generator against the reference).
        expect(reference(mutation.body, mutation.header)).toBeUndefined();
        const fields = validationFields(await run(mutation.body, mutation.header), input);
        if (!namesOnly(fields, mutation)) {
          throw new Error(`expected only ${mutation.field}${mutation.orBelow === true ? ' (or below)' : ''}, got ${JSON.stringify(fields)}: ${input}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('D: on arbitrary JSON, accepts exactly what the rules accept, and otherwise fails only with VALIDATION_FAILED', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryRequest, async ({ body, header }) => {
        const input = describeInput(body, header);
        const expected = reference(body, header);
        const outcome = await run(body, header);
        if (expected === undefined) {
          validationFields(outcome, input);
        } else {
          if (!outcome.ok) {
            throw new Error(`refused a valid request: ${input}: ${String(outcome.error)} ${JSON.stringify((outcome.error as ApiError).options?.errors)}`);
          }
          expect(outcome.value).toEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  // Minimal counterexamples found by C and D, kept as plain examples so they fail deterministically.
  describe('counterexamples', () => {
    const single = { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 0, idempotencyKey: 'k' };
    const item = { productId: 'SKU-001', delta: 1, version: 0, idempotencyKey: 'k' };

    // Accepted today, yielding a command with no productId/delta/version/key (a 500 over HTTP).
    it.each([
      ['an empty array', [[]], 0],
      ['an array holding a valid item', [[item]], 0],
      ['an empty array after a valid item', [item, []], 1],
    ])('refuses a batch whose item is %s', async (_name, updates, index) => {
      const body = { storeId: 'store-1', updates };
      const fields = validationFields(await run(body, undefined), describeInput(body, undefined));
      expect(fields.filter((field) => !field.startsWith(`updates[${index}]`))).toEqual([]);
    });

    it.each(['toString', 'valueOf', 'hasOwnProperty'])('refuses the unknown field %s in a single update', async (field) => {
      const body = { ...single, [field]: 1 };
      expect(validationFields(await run(body, undefined), describeInput(body, undefined))).toEqual([field]);
    });

    it.each(['toString', 'valueOf', 'hasOwnProperty'])('refuses the unknown field %s in a batch and in a batch item', async (field) => {
      const top = { storeId: 'store-1', updates: [item], [field]: 1 };
      expect(validationFields(await run(top, undefined), describeInput(top, undefined))).toEqual([field]);
      const nested = { storeId: 'store-1', updates: [{ ...item, [field]: 1 }] };
      expect(validationFields(await run(nested, undefined), describeInput(nested, undefined))).toEqual([`updates[0].${field}`]);
    });

    it('names an unknown field itself, not an inherited name inside its value', async () => {
      const body = { storeId: 'store-1', updates: [item], extra: { valueOf: 0 } };
      expect(validationFields(await run(body, undefined), describeInput(body, undefined))).toEqual(['extra']);
    });
  });
});
