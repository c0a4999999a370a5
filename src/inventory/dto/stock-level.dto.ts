import { ApiProperty } from '@nestjs/swagger';
import { IsIdentifier } from './constraints';
import type { StockLevel } from '../domain/stock-level';

export class StockLevelParamsDto {
  @ApiProperty({ example: 'store-1' })
  @IsIdentifier()
  storeId!: string;

  @ApiProperty({ example: 'SKU-001' })
  @IsIdentifier()
  productId!: string;
}

export class ProductParamsDto {
  @ApiProperty({ example: 'SKU-001' })
  @IsIdentifier()
  productId!: string;
}

export class StockLevelResponseDto {
  @ApiProperty({ example: 'store-1' })
  storeId!: string;

  @ApiProperty({ example: 'SKU-001' })
  productId!: string;

  @ApiProperty({ example: 45, type: 'integer' })
  quantity!: number;

  @ApiProperty({ example: 12, type: 'integer' })
  version!: number;

  @ApiProperty({ example: '2025-09-02T15:30:00.000Z', format: 'date-time' })
  lastUpdated!: string;

  static of(level: StockLevel): StockLevelResponseDto {
    return {
      storeId: level.storeId,
      productId: level.productId,
      quantity: level.quantity,
      version: level.version,
      lastUpdated: level.lastUpdated.toISOString(),
    };
  }
}

export class ProductLevelDto {
  @ApiProperty({ example: 'store-1' })
  storeId!: string;

  @ApiProperty({ example: 45, type: 'integer' })
  quantity!: number;

  @ApiProperty({ example: 12, type: 'integer' })
  version!: number;

  @ApiProperty({ example: '2025-09-02T15:30:00.000Z', format: 'date-time' })
  lastUpdated!: string;
}

export class ProductStockResponseDto {
  @ApiProperty({ example: 'SKU-001' })
  productId!: string;

  @ApiProperty({ description: 'Sum over the levels listed (the stores this API key may see).', example: 45, type: 'integer' })
  totalQuantity!: number;

  @ApiProperty({ type: [ProductLevelDto] })
  levels!: ProductLevelDto[];

  static of(productId: string, levels: readonly StockLevel[]): ProductStockResponseDto {
    return {
      productId,
      totalQuantity: levels.reduce((sum, level) => sum + level.quantity, 0),
      levels: levels.map((level) => ({
        storeId: level.storeId,
        quantity: level.quantity,
        version: level.version,
        lastUpdated: level.lastUpdated.toISOString(),
      })),
    };
  }
}
