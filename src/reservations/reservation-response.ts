import { HttpStatus } from '@nestjs/common';
import { renderProblem } from '../common/errors/problem-details';
import type { StoredResponse } from '../idempotency/stored-response';
import type { Reservation } from './domain/reservation';
import type { ReservationDecision, ReserveDecision } from './domain/reservation-rules';
import { ReservationResponseDto } from './dto/reservation.dto';

export const RESERVATIONS_PATH = '/v1/reservations';

function respond(status: number, reservation: Reservation, now: Date): StoredResponse {
  return { status, body: JSON.stringify(ReservationResponseDto.of(reservation, now)) };
}

/** The answers of a reservation request, rendered once: sent, stored under its key, replayed. */
export function renderReserve(decision: ReserveDecision, now: Date, requestId: string): StoredResponse {
  const context = { instance: RESERVATIONS_PATH, requestId };
  switch (decision.kind) {
    case 'hold':
      return respond(HttpStatus.CREATED, decision.reservation, now);
    case 'reject':
      switch (decision.reason) {
        case 'LEVEL_NOT_FOUND':
          return renderProblem('LEVEL_NOT_FOUND', `no stock level for ${decision.productIds.join(', ')} in this store; nothing was held`, context, {
            productIds: decision.productIds,
          });
        case 'INSUFFICIENT_AVAILABLE':
          return renderProblem(
            'INSUFFICIENT_AVAILABLE',
            `not enough available for ${decision.short.map((line) => `${line.productId} (requested ${line.requested}, available ${line.available})`).join(', ')}; nothing was held`,
            context,
            { lines: decision.short },
          );
        case 'QUANTITY_LIMIT_EXCEEDED':
          return renderProblem('QUANTITY_LIMIT_EXCEEDED', `${decision.productIds.join(', ')} at the highest version; nothing was held`, context);
      }
  }
}

/** The answers of a commit, release or extension of reservation `id`. */
export function renderReservationDecision(id: string, operation: 'commit' | 'release' | 'extend', decision: ReservationDecision | undefined, now: Date, requestId: string): StoredResponse {
  const context = { instance: `${RESERVATIONS_PATH}/${id}/${operation}`, requestId };
  if (decision === undefined) {
    return renderProblem('RESERVATION_NOT_FOUND', `no reservation ${id}`, context);
  }
  switch (decision.kind) {
    case 'change':
    case 'unchanged':
      return respond(HttpStatus.OK, decision.reservation, now);
    case 'reject':
      switch (decision.reason) {
        case 'NOT_ACTIVE':
          return renderProblem('RESERVATION_NOT_ACTIVE', `reservation ${id} is ${decision.status}: it cannot be ${operation === 'commit' ? 'committed' : operation === 'release' ? 'released' : 'extended'}`, context, {
            reservationStatus: decision.status,
          });
        case 'RESERVATION_EXPIRED':
          return renderProblem(
            'RESERVATION_EXPIRED',
            decision.short.length === 0
              ? `reservation ${id} has expired; reserve again`
              : `reservation ${id} has expired and ${decision.short.map((line) => `${line.productId} (requested ${line.requested}, available ${line.available})`).join(', ')} cannot be sold now`,
            context,
            { reservationStatus: 'expired', ...(decision.short.length === 0 ? {} : { lines: decision.short }) },
          );
        case 'INVALID_LINES':
          return renderProblem('VALIDATION_FAILED', `invalid request: ${decision.issues.map((issue) => issue.field).join(', ')}`, context, { errors: decision.issues });
      }
  }
}
