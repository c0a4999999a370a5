import { ApiProperty } from '@nestjs/swagger';
import { CURSOR_GIVEN_ONCE } from '../../common/http/cursor';
import { IsOptional, IsString } from 'class-validator';
import { IsIdentifier, isIdentifier } from '../../inventory/dto/constraints';
import { QueryInteger, queryInteger } from '../../common/http/query-integer.decorator';
import { acceptQuery, queryText } from '../../common/http/fast-accept';
import type { LedgerChange } from '../ledger-change';

export const MAX_FEED_PAGE = 1000;
export const MAX_WAIT_SECONDS = 30;
export const MAX_HISTORY_PAGE = 500;

export class ChangeResponseDto {
  @ApiProperty({ description: 'Global, gap-free, increasing sequence number.', example: 42, type: 'integer' })
  seq!: number;

  @ApiProperty({ example: 'store-1' })
  storeId!: string;

  @ApiProperty({ example: 'SKU-001' })
  productId!: string;

  @ApiProperty({
    enum: ['adjust', 'set', 'create', 'reserve', 'commit', 'release', 'expire', 'extend'],
    description:
      'adjust: by delta; set: absolute quantity (admin); create: the level was created (admin); reserve: a reservation held units; commit: it sold them (delta < 0) and gave its hold back; release: it gave its hold back; expire: its hold ran out; extend: its hold was prolonged.',
    example: 'adjust',
  })
  kind!: string;

  @ApiProperty({ example: 5, type: 'integer' })
  delta!: number;

  @ApiProperty({ description: 'The quantity after this change.', example: 50, type: 'integer' })
  quantity!: number;

  @ApiProperty({ description: 'Units held by active reservations after this change.', example: 2, type: 'integer' })
  reserved!: number;

  @ApiProperty({ description: 'quantity - reserved after this change: what can still be sold or reserved.', example: 48, type: 'integer' })
  available!: number;

  @ApiProperty({ description: 'The version after this change.', example: 13, type: 'integer' })
  version!: number;

  @ApiProperty({ nullable: true, type: 'string', example: 'sale' })
  reason!: string | null;

  @ApiProperty({ nullable: true, type: 'string', example: 'order-1001' })
  reference!: string | null;

  @ApiProperty({ nullable: true, type: 'string', example: 'test-001' })
  idempotencyKey!: string | null;

  @ApiProperty({ nullable: true, type: 'string', description: 'The reservation that made this change.', example: null })
  reservationId!: string | null;

  @ApiProperty({ nullable: true, type: 'string', example: '3f1c2a9e-8f0e-4a43-9d8b-2f7d1f0c9b4e' })
  requestId!: string | null;

  @ApiProperty({ format: 'date-time', example: '2025-09-02T15:30:00.000Z' })
  createdAt!: string;

  static of(change: LedgerChange): ChangeResponseDto {
    return {
      seq: change.seq,
      storeId: change.storeId,
      productId: change.productId,
      kind: change.kind,
      delta: change.delta,
      quantity: change.quantity,
      reserved: change.reserved,
      available: Math.max(0, change.quantity - change.reserved),
      version: change.version,
      reason: change.reason,
      reference: change.reference,
      idempotencyKey: change.idempotencyKey,
      reservationId: change.reservationId,
      requestId: change.requestId,
      createdAt: change.createdAt.toISOString(),
    };
  }
}

export class ChangesQueryDto {
  static readonly accept = acceptQuery<ChangesQueryDto>({
    storeId: queryText(isIdentifier),
    after: queryInteger(0, Number.MAX_SAFE_INTEGER),
    limit: queryInteger(1, MAX_FEED_PAGE),
    waitSeconds: queryInteger(0, MAX_WAIT_SECONDS),
  });

  @ApiProperty({ required: false, description: 'Only this store’s changes (default: every store the key may see).', example: 'store-1' })
  @IsOptional()
  @IsIdentifier()
  storeId?: string;

  @ApiProperty({ required: false, description: 'Return changes with a seq greater than this (default 0: from the start).', example: 0 })
  @QueryInteger(0, Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiProperty({ required: false, description: `Most changes to return (1-${MAX_FEED_PAGE}, default 100).`, example: 100 })
  @QueryInteger(1, MAX_FEED_PAGE)
  limit?: number;

  @ApiProperty({ required: false, description: `When nothing is newer, wait up to this many seconds for a change (0-${MAX_WAIT_SECONDS}, default 0).`, example: 10 })
  @QueryInteger(0, MAX_WAIT_SECONDS)
  waitSeconds?: number;
}

export class ChangeStreamQueryDto {
  static readonly accept = acceptQuery<ChangeStreamQueryDto>({ storeId: queryText(isIdentifier), after: queryInteger(0, Number.MAX_SAFE_INTEGER) });

  @ApiProperty({ required: false, description: 'Only this store’s changes (default: every store the key may see).', example: 'store-1' })
  @IsOptional()
  @IsIdentifier()
  storeId?: string;

  @ApiProperty({ required: false, description: 'Start after this seq (the Last-Event-ID header, when sent, wins).', example: 0 })
  @QueryInteger(0, Number.MAX_SAFE_INTEGER)
  after?: number;
}

export class ChangesResponseDto {
  @ApiProperty({ type: [ChangeResponseDto] })
  changes!: ChangeResponseDto[];

  @ApiProperty({
    description: 'Pass as `after` next time. Covers changes this key may not see, so it can be beyond the last change listed.',
    example: 42,
    type: 'integer',
  })
  lastSeq!: number;
}

export class HistoryQueryDto {
  static readonly accept = acceptQuery<HistoryQueryDto>({ limit: queryInteger(1, MAX_HISTORY_PAGE), cursor: queryText((value) => typeof value === 'string') });

  @ApiProperty({ required: false, description: `Most entries to return (1-${MAX_HISTORY_PAGE}, default 50).`, example: 50 })
  @QueryInteger(1, MAX_HISTORY_PAGE)
  limit?: number;

  @ApiProperty({ required: false, description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsString({ message: CURSOR_GIVEN_ONCE })
  cursor?: string;
}

export class HistoryResponseDto {
  @ApiProperty({ type: [ChangeResponseDto], description: 'Newest first.' })
  items!: ChangeResponseDto[];

  @ApiProperty({ nullable: true, type: 'string', description: 'Pass as `cursor` for the next (older) page; null on the last page.' })
  nextCursor!: string | null;

  @ApiProperty({
    description: 'Ledger entries with a seq up to this one were pruned by retention (0: none were): a level’s history starts after it. Levels keep their quantity and version.',
    example: 0,
  })
  prunedThroughSeq!: number;

  @ApiProperty({ description: 'How long the ledger keeps entries (LEDGER_RETENTION), e.g. `30d`, or `off` when it keeps them all.', example: '30d' })
  retention!: string;
}
