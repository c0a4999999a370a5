import { ApiProperty } from '@nestjs/swagger';
import { CURSOR_GIVEN_ONCE } from '../../common/http/cursor';
import { IsOptional, IsString } from 'class-validator';
import { QueryInteger, queryInteger } from '../../common/http/query-integer.decorator';
import { acceptObject, acceptQuery, queryText } from '../../common/http/fast-accept';
import { IsIdentifier, isIdentifier } from './constraints';
import { availableOf, type StockLevel } from '../domain/stock-level';

export class StockLevelParamsDto {
  static readonly accept = acceptObject<StockLevelParamsDto>({ storeId: isIdentifier, productId: isIdentifier });

  @ApiProperty({ example: 'store-1' })
  @IsIdentifier()
  storeId!: string;

  @ApiProperty({ example: 'SKU-001' })
  @IsIdentifier()
  productId!: string;
}

export class ProductParamsDto {
  static readonly accept = acceptObject<ProductParamsDto>({ productId: isIdentifier });

  @ApiProperty({ example: 'SKU-001' })
  @IsIdentifier()
  productId!: string;
}

export class StockLevelResponseDto {
  @ApiProperty({ example: 'store-1' })
  storeId!: string;

  @ApiProperty({ example: 'SKU-001' })
  productId!: string;

  @ApiProperty({ description: 'On hand.', example: 45, type: 'integer' })
  quantity!: number;

  @ApiProperty({ description: 'Held by active reservations (checkouts in progress).', example: 0, type: 'integer' })
  reserved!: number;

  @ApiProperty({ description: 'quantity - reserved: what can still be sold or reserved.', example: 45, type: 'integer' })
  available!: number;

  @ApiProperty({ example: 12, type: 'integer' })
  version!: number;

  @ApiProperty({ example: '2025-09-02T15:30:00.000Z', format: 'date-time' })
  lastUpdated!: string;

  static of(level: StockLevel): StockLevelResponseDto {
    return {
      storeId: level.storeId,
      productId: level.productId,
      quantity: level.quantity,
      reserved: level.reserved,
      available: availableOf(level),
      version: level.version,
      lastUpdated: level.lastUpdated.toISOString(),
    };
  }
}

export class ProductLevelDto {
  @ApiProperty({ example: 'store-1' })
  storeId!: string;

  @ApiProperty({ description: 'On hand.', example: 45, type: 'integer' })
  quantity!: number;

  @ApiProperty({ description: 'Held by active reservations.', example: 0, type: 'integer' })
  reserved!: number;

  @ApiProperty({ description: 'quantity - reserved.', example: 45, type: 'integer' })
  available!: number;

  @ApiProperty({ example: 12, type: 'integer' })
  version!: number;

  @ApiProperty({ example: '2025-09-02T15:30:00.000Z', format: 'date-time' })
  lastUpdated!: string;
}

export class ProductStockResponseDto {
  @ApiProperty({ example: 'SKU-001' })
  productId!: string;

  @ApiProperty({ description: 'On hand, summed over the levels listed (the stores this API key may see).', example: 45, type: 'integer' })
  totalQuantity!: number;

  @ApiProperty({ description: 'Held by reservations, summed over the levels listed.', example: 0, type: 'integer' })
  totalReserved!: number;

  @ApiProperty({ description: 'Available, summed over the levels listed.', example: 45, type: 'integer' })
  totalAvailable!: number;

  @ApiProperty({ type: [ProductLevelDto] })
  levels!: ProductLevelDto[];

  static of(productId: string, levels: readonly StockLevel[]): ProductStockResponseDto {
    return {
      productId,
      totalQuantity: levels.reduce((sum, level) => sum + level.quantity, 0),
      totalReserved: levels.reduce((sum, level) => sum + level.reserved, 0),
      totalAvailable: levels.reduce((sum, level) => sum + availableOf(level), 0),
      levels: levels.map((level) => ({
        storeId: level.storeId,
        quantity: level.quantity,
        reserved: level.reserved,
        available: availableOf(level),
        version: level.version,
        lastUpdated: level.lastUpdated.toISOString(),
      })),
    };
  }
}

export const MAX_LIST_PAGE = 500;

export class StoreParamsDto {
  static readonly accept = acceptObject<StoreParamsDto>({ storeId: isIdentifier });

  @ApiProperty({ example: 'store-1' })
  @IsIdentifier()
  storeId!: string;
}

export class StockLevelListQueryDto {
  static readonly accept = acceptQuery<StockLevelListQueryDto>({ limit: queryInteger(1, MAX_LIST_PAGE), cursor: queryText((value) => typeof value === 'string') });

  @ApiProperty({ required: false, description: `Most levels to return (1-${MAX_LIST_PAGE}, default 100).`, example: 100 })
  @QueryInteger(1, MAX_LIST_PAGE)
  limit?: number;

  @ApiProperty({ required: false, description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsString({ message: CURSOR_GIVEN_ONCE })
  cursor?: string;
}

export class StockLevelListResponseDto {
  @ApiProperty({ type: [StockLevelResponseDto], description: 'Ordered by productId.' })
  items!: StockLevelResponseDto[];

  @ApiProperty({ nullable: true, type: 'string', description: 'Pass as `cursor` for the next page; null on the last page.' })
  nextCursor!: string | null;

  @ApiProperty({
    description:
      'The last change seq committed when this page was read. A copy built from these pages catches up by following the change feed from the first page’s lastSeq, skipping changes whose version it already has.',
    example: 42,
    type: 'integer',
  })
  lastSeq!: number;
}
