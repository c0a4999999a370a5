import type { ExamplesObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** The walkthrough requests of the README, offered in Swagger UI's "Try it out". */
export const UPDATE_EXAMPLES: ExamplesObject = {
  successfulUpdate: {
    summary: 'Successful update (SKU-001 at version 12)',
    value: { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: 'test-001' },
  },
  versionConflict: {
    summary: 'Version conflict (stale version 10)',
    value: { storeId: 'store-1', productId: 'SKU-001', delta: 3, version: 10, idempotencyKey: 'conflict-001' },
  },
  idempotentRequest: {
    summary: 'Idempotent request (send twice: the second is a replay)',
    value: { storeId: 'store-1', productId: 'SKU-002', delta: 2, version: 8, idempotencyKey: 'duplicate-001' },
  },
  batchWithMixedResults: {
    summary: 'Batch with one success and one conflict',
    value: {
      storeId: 'store-1',
      updates: [
        { productId: 'SKU-003', delta: 10, version: 15, idempotencyKey: 'batch-success-001' },
        { productId: 'SKU-004', delta: -5, version: 999, idempotencyKey: 'batch-conflict-001' },
      ],
    },
  },
  atomicBatch: {
    summary: 'Atomic batch: all items or none',
    value: {
      storeId: 'store-1',
      atomic: true,
      updates: [
        { productId: 'SKU-007', delta: -2, version: 9, idempotencyKey: 'atomic-001' },
        { productId: 'SKU-008', delta: -2, version: 11, idempotencyKey: 'atomic-002' },
      ],
    },
  },
};
