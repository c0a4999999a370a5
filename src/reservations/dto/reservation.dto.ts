import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { acceptArray, acceptObject } from '../../common/http/fast-accept';
import {
  IDENTIFIER_PATTERN,
  IsEachAnObject,
  IsIdempotencyKey,
  isIdempotencyKey,
  IsIdentifier,
  isIdentifier,
  IsIntegerBetween,
  isIntegerBetween,
  IsOptionalButNotNull,
  IsReference,
  isReference,
} from '../../inventory/dto/constraints';
import { MAX_QUANTITY } from '../../inventory/domain/stock-level';
import { type Reservation, type ReservationStatus, statusAt } from '../domain/reservation';

export const MAX_RESERVATION_LINES = 100;
/** The range a hold may take depends on the configuration: the service names it when a value is outside. */
const TTL_MESSAGE = 'must be a whole number of seconds';

const idProperty = { minLength: 1, maxLength: 64, pattern: IDENTIFIER_PATTERN.source };
const isTtl = isIntegerBetween(1, 30 * 86_400);

// Each DTO's `accept` takes a value valid in every respect without the validation libraries
// (common/http/fast-accept.ts); fast-accept.spec.ts checks it never accepts what they refuse.

export class ReservationLineDto {
  static readonly accept = acceptObject<ReservationLineDto>({ productId: isIdentifier, quantity: isIntegerBetween(1, MAX_QUANTITY) });

  @ApiProperty({ ...idProperty, example: 'SKU-001' })
  @IsIdentifier()
  productId!: string;

  @ApiProperty({ description: 'Units to hold.', minimum: 1, maximum: MAX_QUANTITY, example: 2, type: 'integer' })
  @IsIntegerBetween(1, MAX_QUANTITY)
  quantity!: number;
}

export class CommitLineDto {
  static readonly accept = acceptObject<CommitLineDto>({ productId: isIdentifier, quantity: isIntegerBetween(0, MAX_QUANTITY) });

  @ApiProperty({ ...idProperty, example: 'SKU-001' })
  @IsIdentifier()
  productId!: string;

  @ApiProperty({ description: 'Units sold (at most those held).', minimum: 0, maximum: MAX_QUANTITY, example: 1, type: 'integer' })
  @IsIntegerBetween(0, MAX_QUANTITY)
  quantity!: number;
}

const linesDoc = (description: string) => ({ description, minItems: 1, maxItems: MAX_RESERVATION_LINES });

export class ReservationCreateDto {
  static readonly accept = acceptObject<ReservationCreateDto>(
    { storeId: isIdentifier, lines: acceptArray(1, MAX_RESERVATION_LINES, ReservationLineDto.accept) },
    { ttlSeconds: isTtl, reference: isReference, idempotencyKey: isIdempotencyKey },
  );

  @ApiProperty({ ...idProperty, example: 'store-1' })
  @IsIdentifier()
  storeId!: string;

  @ApiProperty({ type: [ReservationLineDto], ...linesDoc('The cart: every line is held or none. Lines of one product are added up.') })
  @IsArray({ message: `must be an array of 1-${MAX_RESERVATION_LINES} lines` })
  @ArrayMinSize(1, { message: `must hold 1-${MAX_RESERVATION_LINES} lines` })
  @ArrayMaxSize(MAX_RESERVATION_LINES, { message: `must hold 1-${MAX_RESERVATION_LINES} lines` })
  @IsEachAnObject()
  @ValidateNested({ each: true })
  @Type(() => ReservationLineDto)
  lines!: ReservationLineDto[];

  @ApiPropertyOptional({ description: 'How long the hold lasts (default and bounds: RESERVATION_TTL_SECONDS and its limits).', example: 900, type: 'integer' })
  @IsOptionalButNotNull()
  @IsIntegerBetween(1, 30 * 86_400, { message: TTL_MESSAGE })
  ttlSeconds?: number;

  @ApiPropertyOptional({ description: 'What the hold is for, such as a cart or order id; kept in the ledger.', minLength: 1, maxLength: 255, example: 'cart-8812' })
  @IsOptionalButNotNull()
  @IsReference()
  reference?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 255, description: 'Required here or in the Idempotency-Key header (equal if both are sent).', example: 'checkout-8812-1' })
  @IsOptionalButNotNull()
  @IsIdempotencyKey()
  idempotencyKey?: string;
}

export class ReservationCommitDto {
  static readonly accept = acceptObject<ReservationCommitDto>({}, { lines: acceptArray(1, MAX_RESERVATION_LINES, CommitLineDto.accept) });

  @ApiPropertyOptional({ type: [CommitLineDto], ...linesDoc('Units sold per product; a product left out sells none (its hold is released). Leave out `lines` to sell everything held.') })
  @IsOptionalButNotNull()
  @IsArray({ message: `must be an array of 1-${MAX_RESERVATION_LINES} lines` })
  @ArrayMinSize(1, { message: `must hold 1-${MAX_RESERVATION_LINES} lines` })
  @ArrayMaxSize(MAX_RESERVATION_LINES, { message: `must hold 1-${MAX_RESERVATION_LINES} lines` })
  @IsEachAnObject()
  @ValidateNested({ each: true })
  @Type(() => CommitLineDto)
  lines?: CommitLineDto[];
}

export class ReservationExtendDto {
  static readonly accept = acceptObject<ReservationExtendDto>({ ttlSeconds: isTtl });

  @ApiProperty({ description: 'The hold lasts this long from now.', example: 600, type: 'integer' })
  @IsIntegerBetween(1, 30 * 86_400, { message: TTL_MESSAGE })
  ttlSeconds!: number;
}

export class ReservationIdParamsDto {
  static readonly accept = acceptObject<ReservationIdParamsDto>({ reservationId: isIdentifier });

  @ApiProperty({ example: 'res_3q7Yc2mWk1V8xZp0' })
  @IsIdentifier()
  reservationId!: string;
}

export class ReservationLineResponseDto {
  @ApiProperty({ example: 'SKU-001' })
  productId!: string;

  @ApiProperty({ description: 'Units held.', example: 2, type: 'integer' })
  quantity!: number;

  @ApiPropertyOptional({ description: 'Units sold, once committed.', example: 2, type: 'integer' })
  committed?: number;
}

export class ReservationResponseDto {
  @ApiProperty({ example: 'res_3q7Yc2mWk1V8xZp0' })
  reservationId!: string;

  @ApiProperty({ example: 'store-1' })
  storeId!: string;

  @ApiProperty({ enum: ['active', 'committed', 'released', 'expired'], example: 'active' })
  status!: ReservationStatus;

  @ApiProperty({ format: 'date-time', example: '2026-11-30T10:15:00.000Z' })
  expiresAt!: string;

  @ApiProperty({ type: [ReservationLineResponseDto] })
  lines!: ReservationLineResponseDto[];

  @ApiProperty({ nullable: true, type: 'string', example: 'cart-8812' })
  reference!: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-30T10:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-30T10:00:00.000Z' })
  updatedAt!: string;

  static of(reservation: Reservation, now: Date): ReservationResponseDto {
    return {
      reservationId: reservation.id,
      storeId: reservation.storeId,
      status: statusAt(reservation, now),
      expiresAt: reservation.expiresAt.toISOString(),
      lines: reservation.lines.map((line) => ({ productId: line.productId, quantity: line.quantity, ...(line.committed === null ? {} : { committed: line.committed }) })),
      reference: reservation.reference,
      createdAt: reservation.createdAt.toISOString(),
      updatedAt: reservation.updatedAt.toISOString(),
    };
  }
}
