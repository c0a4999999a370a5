import { HttpStatus } from '@nestjs/common';
import type { StoredResponse } from '../idempotency/stored-response';
import type { UpdateCommand } from './domain/update-command';
import type { UpdateDecision } from './domain/update-decision';

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
        error: `insufficient stock: available ${decision.current.quantity}, requested ${-command.delta}`,
        code: decision.reason,
        currentVersion: decision.current.version,
        currentQuantity: decision.current.quantity,
      });
    case 'QUANTITY_LIMIT_EXCEEDED':
      return respond(HttpStatus.CONFLICT, {
        productId,
        applied: false,
        error: `quantity limit exceeded: ${decision.current.quantity} + ${command.delta} is beyond ${Number.MAX_SAFE_INTEGER}`,
        code: decision.reason,
        currentVersion: decision.current.version,
        currentQuantity: decision.current.quantity,
      });
  }
}

/** An item of an atomic batch that would have applied, but was rolled back with the others. */
export function renderAborted(command: UpdateCommand): StoredResponse {
  return respond(HttpStatus.CONFLICT, {
    productId: command.productId,
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
