import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class InventoryUpdateResponseDto {
  @ApiProperty({ example: 'SKU-001' })
  productId!: string;

  @ApiProperty({ example: 50, type: 'integer' })
  newQuantity!: number;

  @ApiProperty({ example: 13, type: 'integer' })
  newVersion!: number;

  @ApiProperty({ example: true, enum: [true] })
  applied!: true;

  @ApiProperty({ example: '2025-09-02T15:30:00.000Z', format: 'date-time' })
  lastUpdated!: string;
}

export const UPDATE_FAILURE_CODES = [
  'VERSION_CONFLICT',
  'INSUFFICIENT_STOCK',
  'LEVEL_NOT_FOUND',
  'QUANTITY_LIMIT_EXCEEDED',
  'IDEMPOTENCY_KEY_REUSED',
  'BATCH_ABORTED',
] as const;

export class InventoryUpdateFailureResponseDto {
  @ApiProperty({ example: 'SKU-001' })
  productId!: string;

  @ApiProperty({ example: false, enum: [false] })
  applied!: false;

  @ApiProperty({ example: 'version conflict: expected 13, got 10' })
  error!: string;

  @ApiProperty({ enum: UPDATE_FAILURE_CODES, example: 'VERSION_CONFLICT' })
  code!: (typeof UPDATE_FAILURE_CODES)[number];

  @ApiPropertyOptional({ description: 'The level’s version now (conflicts and insufficient stock).', example: 13, type: 'integer' })
  currentVersion?: number;

  @ApiPropertyOptional({ description: 'The level’s quantity now (insufficient stock).', example: 8, type: 'integer' })
  currentQuantity?: number;
}

export class BatchSummaryDto {
  @ApiProperty({ example: 2, type: 'integer' })
  total!: number;

  @ApiProperty({ example: 1, type: 'integer' })
  succeeded!: number;

  @ApiProperty({ example: 1, type: 'integer' })
  failed!: number;
}

export class InventoryBatchUpdateResponseDto {
  @ApiProperty({ description: 'One result per item, in request order: an InventoryUpdateResponse or an InventoryUpdateFailureResponse.', type: 'array', items: { type: 'object' } })
  results!: Array<InventoryUpdateResponseDto | InventoryUpdateFailureResponseDto>;

  @ApiProperty({ type: BatchSummaryDto })
  summary!: BatchSummaryDto;
}
