import { HttpStatus } from '@nestjs/common';
import { renderProblem } from '../common/errors/problem-details';
import type { StoredResponse } from '../idempotency/stored-response';
import type { SetDecision } from './domain/set-decision';
import type { SetLevelCommand, UpdateCommand } from './domain/update-command';
import type { UpdateDecision } from './domain/update-decision';
import { availableOf, MAX_QUANTITY } from './domain/stock-level';
import { StockLevelResponseDto } from './dto/stock-level.dto';

/**
 * The documented update results, rendered once: these exact bytes are what the client gets,
 * what the idempotency record stores, and what a replay returns.
 */
export function renderDecision(command: UpdateCommand, decision: UpdateDecision): StoredResponse {
  const { productId } = command;
  if (decision.kind === 'apply') {
    const { next } = decision;
    return respond(HttpStatus.OK, {
      productId,
      newQuantity: next.quantity,
      newVersion: next.version,
      applied: true,
      lastUpdated: next.lastUpdated.toISOString(),
    });
  }
  switch (decision.reason) {
    case 'LEVEL_NOT_FOUND':
      return respond(HttpStatus.NOT_FOUND, {
        productId,
        applied: false,
        error: `no stock level for product ${productId} in store ${command.storeId}`,
        code: decision.reason,
      });
    case 'VERSION_CONFLICT':
      return respond(HttpStatus.CONFLICT, {
        productId,
        applied: false,
        error: `version conflict: expected ${decision.current.version}, got ${command.expectedVersion}`,
        code: decision.reason,
        currentVersion: decision.current.version,
      });
    case 'INSUFFICIENT_STOCK':
      return respond(HttpStatus.CONFLICT, {
        productId,
        applied: false,
        error: `insufficient stock: available ${availableOf(decision.current)}, requested ${-command.delta}`,
        code: decision.reason,
        currentVersion: decision.current.version,
        currentQuantity: decision.current.quantity,
        available: availableOf(decision.current),
      });
    case 'QUANTITY_LIMIT_EXCEEDED':
      return respond(HttpStatus.CONFLICT, {
        productId,
        applied: false,
        error: `quantity limit exceeded: ${decision.current.quantity} + ${command.delta} is beyond ${MAX_QUANTITY}`,
        code: decision.reason,
        currentVersion: decision.current.version,
        currentQuantity: decision.current.quantity,
      });
  }
}

/**
 * The answers of an administrator's set: the level (201 created, 200 set) or a problem. A stale
 * version is a 409 when it came in the body and a 412 when it came in If-Match (RFC 9110).
 */
export function renderSetDecision(command: SetLevelCommand, decision: SetDecision, requestId: string): StoredResponse {
  const fromHeader = command.precondition === 'if-match';
  const level = `${command.storeId}/${command.productId}`;
  const context = { instance: `/v1/stores/${command.storeId}/inventory/${command.productId}`, requestId };
  switch (decision.kind) {
    case 'create':
      return respond(HttpStatus.CREATED, StockLevelResponseDto.of(decision.next));
    case 'set':
      return respond(HttpStatus.OK, StockLevelResponseDto.of(decision.next));
    case 'reject':
      switch (decision.reason) {
        case 'LEVEL_NOT_FOUND':
          return fromHeader
            ? renderProblem('PRECONDITION_FAILED', `If-Match names a version, but there is no level ${level}`, context)
            : renderProblem('LEVEL_NOT_FOUND', `a version was given, but there is no level ${level}; omit it to create the level`, context);
        case 'PRECONDITION_REQUIRED':
          return renderProblem('PRECONDITION_REQUIRED', `level ${level} exists: send its current version (body \`version\` or If-Match) to change it`, context);
        case 'VERSION_CONFLICT':
          return renderProblem(
            fromHeader ? 'PRECONDITION_FAILED' : 'VERSION_CONFLICT',
            `version conflict: expected ${decision.current.version}, got ${command.expectedVersion}`,
            context,
            { currentVersion: decision.current.version },
          );
        case 'QUANTITY_LIMIT_EXCEEDED':
          return renderProblem('QUANTITY_LIMIT_EXCEEDED', `level ${level} is at its highest version`, context, { currentVersion: decision.current.version });
        case 'QUANTITY_BELOW_RESERVED':
          return renderProblem(
            'QUANTITY_BELOW_RESERVED',
            `level ${level} has ${decision.current.reserved} units held by reservations; its quantity cannot be set below that`,
            context,
            { currentVersion: decision.current.version, reserved: decision.current.reserved },
          );
      }
  }
}

/** An item of an atomic batch that would have applied, but was rolled back with the others. */
export function renderAborted(productId: string): StoredResponse {
  return respond(HttpStatus.CONFLICT, {
    productId,
    applied: false,
    error: 'not applied: another update in the atomic batch failed',
    code: 'BATCH_ABORTED',
  });
}

/** A batch item whose idempotency key was already used for a different update. */
export function renderKeyReused(command: UpdateCommand): StoredResponse {
  return respond(HttpStatus.UNPROCESSABLE_ENTITY, {
    productId: command.productId,
    applied: false,
    error: 'idempotency key already used with a different payload',
    code: 'IDEMPOTENCY_KEY_REUSED',
  });
}

function respond(status: number, body: object): StoredResponse {
  return { status, body: JSON.stringify(body) };
}
