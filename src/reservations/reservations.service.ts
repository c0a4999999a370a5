import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { RequestLog } from '../common/logging';
import type { Client } from '../common/auth/client';
import { assertStoreAccess } from '../common/auth/current-client.decorator';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { AppConfig } from '../config/app-config';
import { fingerprintOf } from '../idempotency/fingerprint';
import { keyReusedError } from '../idempotency/idempotency-key';
import { MAX_QUANTITY } from '../inventory/domain/stock-level';
import { InventoryService } from '../inventory/inventory.service';
import type { UpdateReply } from '../inventory/update-reply';
import type { UpdateItem } from '../inventory/update-job';
import { Metrics } from '../metrics/metrics';
import { type LineQuantity, type Reservation, sumLines } from './domain/reservation';
import { ReservationResponseDto } from './dto/reservation.dto';
import { ReservationsRepository } from './persistence/reservations.repository';

export interface ReserveRequest {
  readonly storeId: string;
  readonly lines: readonly LineQuantity[];
  readonly ttlSeconds?: number;
  readonly reference?: string;
  readonly idempotencyKey: string;
}

type Operation = 'reserve' | 'commit' | 'release' | 'extend';

/**
 * Use cases of reservations. Every hold, commit, release and extension is a job of the
 * inventory's one update queue, decided in its group transaction with the updates around it.
 */
@Injectable()
export class ReservationsService {
  constructor(
    private readonly inventory: InventoryService,
    private readonly repository: ReservationsRepository,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {}

  async reserve(client: Client, request: ReserveRequest, log: RequestLog): Promise<UpdateReply> {
    assertStoreAccess(client, request.storeId);
    const ttlSeconds = this.ttlOf(request.ttlSeconds);
    const lines = sumLines(request.lines);
    const tooMany = lines.find((line) => line.quantity > MAX_QUANTITY);
    if (tooMany !== undefined) {
      throw ApiError.invalidField('lines', `hold more than ${MAX_QUANTITY} units of ${tooMany.productId} in all`);
    }
    const { storeId, reference, idempotencyKey } = request;
    // The payload as sent, lines added up: the key names this cart, whatever id the hold gets.
    const fingerprint = fingerprintOf({ operation: 'reserve', storeId, lines, ttlSeconds: request.ttlSeconds, reference });
    const command = { reservationId: newReservationId(), storeId, lines, ttlSeconds, ...(reference === undefined ? {} : { reference }), idempotencyKey };
    return this.run(client, 'reserve', { type: 'reserve', command, fingerprint }, log);
  }

  async find(client: Client, id: string): Promise<ReservationResponseDto> {
    return ReservationResponseDto.of(await this.visible(client, id), this.clock.now());
  }

  // Commit, release and extension read the reservation only in their transaction, where its
  // existence and store are checked: a read before it would cost a query and decide nothing.
  commit(client: Client, id: string, lines: readonly LineQuantity[] | undefined, log: RequestLog): Promise<UpdateReply> {
    return this.run(client, 'commit', { type: 'commit', command: { reservationId: id, allowedStores: client.stores, ...(lines === undefined ? {} : { lines }) } }, log);
  }

  release(client: Client, id: string, log: RequestLog): Promise<UpdateReply> {
    return this.run(client, 'release', { type: 'release', command: { reservationId: id, allowedStores: client.stores } }, log);
  }

  extend(client: Client, id: string, ttlSeconds: number, log: RequestLog): Promise<UpdateReply> {
    return this.run(client, 'extend', { type: 'extend', command: { reservationId: id, allowedStores: client.stores, ttlSeconds: this.ttlOf(ttlSeconds) } }, log);
  }

  /** The reservation, if it exists in a store the key may see (its store never changes). */
  private async visible(client: Client, id: string): Promise<Reservation> {
    const reservation = await this.repository.findReservation(id);
    if (reservation === undefined) {
      throw new ApiError('RESERVATION_NOT_FOUND', `no reservation ${id}`);
    }
    assertStoreAccess(client, reservation.storeId);
    return reservation;
  }

  private ttlOf(requested: number | undefined): number {
    const { reservationTtlSeconds, reservationMinTtlSeconds: min, reservationMaxTtlSeconds: max } = this.config;
    if (requested !== undefined && (requested < min || requested > max)) {
      throw ApiError.invalidField('ttlSeconds', `must be from ${min} to ${max} seconds`);
    }
    return requested ?? reservationTtlSeconds;
  }

  private async run(client: Client, operation: Operation, item: UpdateItem, log: RequestLog): Promise<UpdateReply> {
    const { items } = await this.inventory.execute({ clientId: client.id, requestId: log.id, atomic: false, items: [item] }, log);
    const result = items[0];
    if (result.kind === 'key-reused') {
      this.metrics.reservationOperations.inc({ operation, outcome: 'key_reused' });
      throw keyReusedError();
    }
    const outcome = result.kind === 'replayed' ? 'replayed' : result.response.status < 300 ? 'ok' : ((JSON.parse(result.response.body) as { code?: string }).code ?? 'rejected');
    this.metrics.reservationOperations.inc({ operation, outcome });
    log[result.response.status < 300 ? 'info' : 'warn']({ operation, outcome, status: result.response.status }, `reservation ${operation}`);
    return { ...result.response, replayed: result.kind === 'replayed' };
  }
}

/** `res_` and 96 random bits, URL-safe: unguessable, and a valid identifier in paths. */
function newReservationId(): string {
  return `res_${randomBytes(12).toString('base64url')}`;
}
