import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, ValidateNested } from 'class-validator';
import { MAX_ABS_DELTA, MAX_VERSION } from '../domain/stock-level';
import { MAX_QUANTITY } from '../domain/stock-level';
import { acceptArray, acceptObject } from '../../common/http/fast-accept';
import {
  IDENTIFIER_PATTERN,
  IsIdempotencyKey,
  isIdempotencyKey,
  IsIdentifier,
  isIdentifier,
  IsIntegerBetween,
  isIntegerBetween,
  IsOptionalButNotNull,
  IsReason,
  isReason,
  IsReference,
  isReference,
  REASON_PATTERN,
} from './constraints';

export const MAX_BATCH_ITEMS = 100;

const idProperty = { minLength: 1, maxLength: 64, pattern: IDENTIFIER_PATTERN.source };
const keyProperty = { minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]{1,255}$' };

/** `reason` and `reference`: stored in the ledger with the change (as Shopify's inventory adjustments do). */
class ChangeNoteDto {
  @ApiPropertyOptional({ description: 'Why the stock changed, as a lowercase token.', pattern: REASON_PATTERN.source, example: 'sale' })
  @IsOptionalButNotNull()
  @IsReason()
  reason?: string;

  @ApiPropertyOptional({ description: 'What the change is for, such as an order or delivery id.', minLength: 1, maxLength: 255, example: 'order-1001' })
  @IsOptionalButNotNull()
  @IsReference()
  reference?: string;
}

const isDelta = isIntegerBetween(-MAX_ABS_DELTA, MAX_ABS_DELTA, { nonZero: true });
const isVersion = isIntegerBetween(0, MAX_VERSION);
const NOTE_CHECKS = { reason: isReason, reference: isReference };

export class InventoryUpdateCreateDto extends ChangeNoteDto {
  /** A single update valid in every respect, taken without the validation libraries (common/http/fast-accept.ts). */
  static readonly accept = acceptObject<InventoryUpdateCreateDto>(
    { storeId: isIdentifier, productId: isIdentifier, delta: isDelta, version: isVersion },
    { ...NOTE_CHECKS, idempotencyKey: isIdempotencyKey },
  );

  @ApiProperty({ ...idProperty, example: 'store-1' })
  @IsIdentifier()
  storeId!: string;

  @ApiProperty({ ...idProperty, example: 'SKU-001' })
  @IsIdentifier()
  productId!: string;

  @ApiProperty({ description: 'Change in quantity: positive to receive stock, negative to sell or remove it.', minimum: -MAX_ABS_DELTA, maximum: MAX_ABS_DELTA, not: { enum: [0] }, example: 5, type: 'integer' })
  @IsIntegerBetween(-MAX_ABS_DELTA, MAX_ABS_DELTA, { nonZero: true })
  delta!: number;

  @ApiProperty({ description: 'The version of the level the change is based on (optimistic concurrency).', minimum: 0, maximum: MAX_VERSION, example: 12, type: 'integer' })
  @IsIntegerBetween(0, MAX_VERSION)
  version!: number;

  @ApiPropertyOptional({ ...keyProperty, description: 'Required here or in the Idempotency-Key header (equal if both are sent).', example: 'test-001' })
  @IsOptionalButNotNull()
  @IsIdempotencyKey()
  idempotencyKey?: string;
}

export class InventoryBatchItemDto extends ChangeNoteDto {
  static readonly accept = acceptObject<InventoryBatchItemDto>({ productId: isIdentifier, delta: isDelta, version: isVersion, idempotencyKey: isIdempotencyKey }, NOTE_CHECKS);

  @ApiProperty({ ...idProperty, example: 'SKU-003' })
  @IsIdentifier()
  productId!: string;

  @ApiProperty({ minimum: -MAX_ABS_DELTA, maximum: MAX_ABS_DELTA, not: { enum: [0] }, example: 10, type: 'integer' })
  @IsIntegerBetween(-MAX_ABS_DELTA, MAX_ABS_DELTA, { nonZero: true })
  delta!: number;

  @ApiProperty({ minimum: 0, maximum: MAX_VERSION, example: 15, type: 'integer' })
  @IsIntegerBetween(0, MAX_VERSION)
  version!: number;

  @ApiProperty({ ...keyProperty, description: 'Each item carries its own key.', example: 'batch-success-001' })
  @IsIdempotencyKey()
  idempotencyKey!: string;
}

export class InventoryBatchUpdateCreateDto {
  /** A batch valid in every respect (each item too), taken without the validation libraries. */
  static readonly accept = acceptObject<InventoryBatchUpdateCreateDto>(
    { storeId: isIdentifier, updates: acceptArray(1, MAX_BATCH_ITEMS, InventoryBatchItemDto.accept) },
    { atomic: (value) => typeof value === 'boolean' },
  );

  @ApiProperty({ ...idProperty, example: 'store-1' })
  @IsIdentifier()
  storeId!: string;

  @ApiPropertyOptional({ description: 'Apply all items or none. Default false: items are independent.', default: false })
  @IsOptionalButNotNull()
  @IsBoolean({ message: 'must be true or false' })
  atomic?: boolean;

  @ApiProperty({ type: [InventoryBatchItemDto], minItems: 1, maxItems: MAX_BATCH_ITEMS })
  @IsArray({ message: `must be an array of 1-${MAX_BATCH_ITEMS} updates` })
  @ArrayMinSize(1, { message: `must hold 1-${MAX_BATCH_ITEMS} updates` })
  @ArrayMaxSize(MAX_BATCH_ITEMS, { message: `must hold 1-${MAX_BATCH_ITEMS} updates` })
  @ValidateNested({ each: true, message: 'each update must be an object' })
  @Type(() => InventoryBatchItemDto)
  updates!: InventoryBatchItemDto[];
}

export class StockLevelSetDto extends ChangeNoteDto {
  @ApiProperty({ description: 'The absolute quantity to set.', minimum: 0, maximum: MAX_QUANTITY, example: 40, type: 'integer' })
  @IsIntegerBetween(0, MAX_QUANTITY)
  quantity!: number;

  @ApiPropertyOptional({
    description: 'The level’s current version, required to change an existing level (or send If-Match). Omit it to create a level.',
    minimum: 0,
    maximum: MAX_VERSION,
    example: 12,
    type: 'integer',
  })
  @IsOptionalButNotNull()
  @IsIntegerBetween(0, MAX_VERSION)
  version?: number;
}
