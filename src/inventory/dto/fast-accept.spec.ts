import { ValidationPipe } from '@nestjs/common';
import { type Accepter, acceptQuickly } from '../../common/http/fast-accept';
import { createValidationPipe, inheritedNameIssues, VALIDATION_OPTIONS } from '../../common/http/validation';
import { InventoryBatchItemDto, InventoryBatchUpdateCreateDto, InventoryUpdateCreateDto } from './inventory-update.dto';
import { ProductParamsDto, StockLevelListQueryDto, StockLevelParamsDto, StoreParamsDto } from './stock-level.dto';
import { ChangesQueryDto, ChangeStreamQueryDto, HistoryQueryDto } from '../../changes/dto/change.dto';
import {
  CommitLineDto,
  ReservationCommitDto,
  ReservationCreateDto,
  ReservationExtendDto,
  ReservationIdParamsDto,
  ReservationLineDto,
} from '../../reservations/dto/reservation.dto';

type Json = Record<string, unknown>;

/** Values that break some rule somewhere: wrong types, edges of ranges and patterns. */
const ODD_VALUES: unknown[] = [
  null,
  '',
  ' ',
  'a'.repeat(64),
  'a'.repeat(65),
  'k'.repeat(255),
  'k'.repeat(256),
  'store 1',
  'SKU/1',
  'é',
  'sale',
  'Sale',
  '_sale',
  'line\nbreak',
  '5',
  0,
  -0,
  1,
  -1,
  1.5,
  1e9,
  1e9 + 1,
  -1e9,
  -1e9 - 1,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  [],
  {},
  [1],
];

/** The decorators' verdict, as the pipe gave it before any DTO could accept quickly. */
async function decoratorsAccept(metatype: new () => object, value: unknown): Promise<Json | undefined> {
  const copy: unknown = JSON.parse(JSON.stringify(value));
  if (inheritedNameIssues(copy).length > 0) {
    return undefined;
  }
  try {
    const instance = (await new ValidationPipe(VALIDATION_OPTIONS).transform(copy, { type: 'body', metatype })) as object;
    return JSON.parse(JSON.stringify(instance)) as Json;
  } catch {
    return undefined;
  }
}

/**
 * Expects every variant the quick accepter takes to be taken, and converted, alike by the
 * decorators; counts the variants both take and both refuse.
 */
async function compareWithDecorators(metatype: (new () => object) & { accept: Accepter<unknown> }, variants: readonly unknown[]): Promise<{ acceptedByBoth: number; refusedByBoth: number }> {
  let acceptedByBoth = 0;
  let refusedByBoth = 0;
  for (const variant of variants) {
    const quick = metatype.accept(variant);
    const decorators = await decoratorsAccept(metatype, variant);
    if (quick !== undefined) {
      expect({ variant, decorators }).toEqual({ variant, decorators: JSON.parse(JSON.stringify(quick)) });
      acceptedByBoth += 1;
    } else if (decorators === undefined) {
      refusedByBoth += 1;
    }
  }
  return { acceptedByBoth, refusedByBoth };
}

/** The valid value itself, each field left out, each field given every odd value, and extra fields. */
function variantsOf(valid: Json): unknown[] {
  const variants: unknown[] = [valid, null, [], 'text', 5, [valid]];
  for (const field of Object.keys(valid)) {
    const { [field]: _left, ...without } = valid;
    variants.push(without);
    for (const odd of ODD_VALUES) {
      variants.push({ ...valid, [field]: odd });
    }
  }
  variants.push({ ...valid, extra: 1 }, { ...valid, reason: 'sale', reference: 'order-1' }, { ...valid, reason: null }, { ...valid, atomic: true });
  // Keys JSON.parse makes own properties, but an object literal would not.
  const withKey = (key: string) => JSON.parse(JSON.stringify(valid).replace(/^\{/, `{"${key}": {"x": 1}${Object.keys(valid).length > 0 ? ',' : ''}`)) as unknown;
  variants.push(withKey('__proto__'), withKey('constructor'));
  return variants;
}

const validItem = { productId: 'SKU-1', delta: -2, version: 3, idempotencyKey: 'item-1' };

const CASES: ReadonlyArray<{ name: string; metatype: (new () => object) & { accept: Accepter<unknown> }; valid: Json[]; extra?: unknown[] }> = [
  {
    name: 'a single update',
    metatype: InventoryUpdateCreateDto,
    valid: [
      { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 0, idempotencyKey: 'k-1' },
      { storeId: 'a', productId: 'b.c_d:e-f', delta: -1e9, version: 1e9, reason: 'cycle_count', reference: 'order #1' },
    ],
  },
  { name: 'a batch item', metatype: InventoryBatchItemDto, valid: [validItem, { ...validItem, reason: 'received', reference: 'po-9' }] },
  {
    name: 'a batch',
    metatype: InventoryBatchUpdateCreateDto,
    valid: [
      { storeId: 'store-1', updates: [validItem] },
      { storeId: 'store-1', atomic: false, updates: Array.from({ length: 100 }, (_, index) => ({ ...validItem, idempotencyKey: `k-${index}` })) },
    ],
    extra: [
      { storeId: 'store-1', updates: [] },
      { storeId: 'store-1', updates: Array.from({ length: 101 }, (_, index) => ({ ...validItem, idempotencyKey: `k-${index}` })) },
      ...variantsOf(validItem).map((item) => ({ storeId: 'store-1', updates: [validItem, item] })),
    ],
  },
  { name: 'a level’s path', metatype: StockLevelParamsDto, valid: [{ storeId: 'store-1', productId: 'SKU-001' }] },
  { name: 'a product’s path', metatype: ProductParamsDto, valid: [{ productId: 'SKU-001' }] },
  { name: 'a store’s path', metatype: StoreParamsDto, valid: [{ storeId: 'store-1' }] },
  { name: 'a reservation line', metatype: ReservationLineDto, valid: [{ productId: 'SKU-1', quantity: 1 }] },
  { name: 'a commit line', metatype: CommitLineDto, valid: [{ productId: 'SKU-1', quantity: 0 }] },
  {
    name: 'a reservation',
    metatype: ReservationCreateDto,
    valid: [
      { storeId: 'store-1', lines: [{ productId: 'SKU-1', quantity: 2 }] },
      { storeId: 'store-1', lines: [{ productId: 'SKU-1', quantity: 2 }], ttlSeconds: 900, reference: 'cart 7', idempotencyKey: 'hold-1' },
    ],
    extra: [{ storeId: 'store-1', lines: [] }, ...variantsOf({ productId: 'SKU-1', quantity: 1 }).map((line) => ({ storeId: 'store-1', lines: [line] }))],
  },
  {
    name: 'a commit',
    metatype: ReservationCommitDto,
    valid: [{}, { lines: [{ productId: 'SKU-1', quantity: 0 }] }],
    extra: [{ lines: [] }, { lines: null }, ...variantsOf({ productId: 'SKU-1', quantity: 0 }).map((line) => ({ lines: [line] }))],
  },
  { name: 'an extension', metatype: ReservationExtendDto, valid: [{ ttlSeconds: 1 }, { ttlSeconds: 30 * 86_400 }], extra: [{ ttlSeconds: 30 * 86_400 + 1 }] },
  { name: 'a reservation’s path', metatype: ReservationIdParamsDto, valid: [{ reservationId: 'res_abc' }] },
];

describe.each(CASES)('accepting $name without the validation libraries', ({ metatype, valid, extra = [] }) => {
  it('accepts every valid value, unchanged', async () => {
    for (const value of valid) {
      expect(metatype.accept(value)).toBe(value);
      expect(await decoratorsAccept(metatype, value)).toEqual(value);
    }
  });

  it('never accepts what the decorators refuse, and takes what it accepts as they would', async () => {
    const variants = [...valid.flatMap(variantsOf), ...extra];
    const { refusedByBoth } = await compareWithDecorators(metatype, variants);
    // The variants do reach refusals, so the comparison above is not only among valid values.
    expect(refusedByBoth).toBeGreaterThan(variants.length / 2);
  });
});

/** Texts a query parameter may bring: digits at and beyond every bound, non-digits, identifiers. */
const QUERY_TEXTS: unknown[] = ['', ' ', '0', '1', '05', '30', '31', '100', '500', '501', '1000', '1001', '9007199254740991', '9007199254740992', '-1', '+1', '1.5', '1e3', '0x10', ' 5', 'abc', 'store-1', 'store 1', 'é', ['1', '2'], ['store-1']];

const QUERY_CASES: ReadonlyArray<{ name: string; metatype: (new () => object) & { accept: Accepter<unknown> }; fields: string[] }> = [
  { name: 'a page of levels', metatype: StockLevelListQueryDto, fields: ['limit', 'cursor'] },
  { name: 'a page of history', metatype: HistoryQueryDto, fields: ['limit', 'cursor'] },
  { name: 'a long poll of the feed', metatype: ChangesQueryDto, fields: ['storeId', 'after', 'limit', 'waitSeconds'] },
  { name: 'a stream of the feed', metatype: ChangeStreamQueryDto, fields: ['storeId', 'after'] },
];

describe.each(QUERY_CASES)('accepting the query of $name without the validation libraries', ({ metatype, fields }) => {
  it('takes exactly what the decorators take, as they convert it (limit=5 is 5), and nothing they refuse', async () => {
    const variants: unknown[] = [{}, { extra: '1' }, JSON.parse('{"__proto__": "1"}')];
    for (const field of fields) {
      for (const text of QUERY_TEXTS) {
        variants.push({ [field]: text });
        // Beside a valid other parameter, so one field's refusal is not hidden by another's.
        variants.push({ [field]: text, ...(field === fields[0] ? { [fields[1]]: '1' } : { [fields[0]]: fields[0] === 'storeId' ? 'store-1' : '1' }) });
      }
    }
    const { acceptedByBoth, refusedByBoth } = await compareWithDecorators(metatype, variants);
    expect(acceptedByBoth).toBeGreaterThan(5);
    expect(refusedByBoth).toBeGreaterThan(variants.length / 3);
  });

  it('converts integer parameters as the decorators do', () => {
    const integer = fields.find((field) => field !== 'storeId' && field !== 'cursor')!;
    expect(metatype.accept({ [integer]: '1' })).toEqual({ [integer]: 1 });
  });
});

describe('the validation pipe', () => {
  class Accepting {
    static accept = (value: unknown) => (value === 'ok' ? { taken: 'quickly' } : undefined);
  }
  class Inheriting extends Accepting {}

  it('takes what a DTO accepts without validating it, and validates the rest', async () => {
    const pipe = createValidationPipe();
    await expect(pipe.transform('ok', { type: 'body', metatype: Accepting })).resolves.toEqual({ taken: 'quickly' });
    // Not accepted: validated, and a plain string is not an object.
    await expect(pipe.transform('other', { type: 'body', metatype: Accepting })).rejects.toThrow();
  });

  it('does not let a subclass accept by its parent’s rules', async () => {
    expect(acceptQuickly(Inheriting, 'ok')).toBeUndefined();
    await expect(createValidationPipe().transform('ok', { type: 'body', metatype: Inheriting })).rejects.toThrow();
  });
});
