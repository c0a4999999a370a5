import type { TestApp } from './test-app';

export const RESERVATIONS_PATH = '/v1/reservations';

export type ReservationAction = 'commit' | 'release' | 'extend';

export interface ReservationLine {
  productId: string;
  quantity: number;
  committed?: number;
}

export interface ReservationBody {
  reservationId: string;
  storeId: string;
  status: 'active' | 'committed' | 'released' | 'expired';
  expiresAt: string;
  lines: ReservationLine[];
  reference: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A level as the reads give it: on hand, held, and what is left to sell or hold. */
export interface LevelView {
  storeId: string;
  productId: string;
  quantity: number;
  reserved: number;
  available: number;
  version: number;
  lastUpdated: string;
}

/** A ledger entry, as the history and the change feed give it. */
export interface LedgerEntry {
  seq: number;
  storeId: string;
  productId: string;
  kind: string;
  delta: number;
  quantity: number;
  reserved: number;
  available: number;
  version: number;
  reason: string | null;
  reference: string | null;
  idempotencyKey: string | null;
  reservationId: string | null;
  requestId: string | null;
  createdAt: string;
}

export function postReservation(app: TestApp, body: unknown, apiKey = 'demo', headers: Record<string, string> = {}) {
  return app.http().post(RESERVATIONS_PATH).set('X-API-Key', apiKey).set(headers).send(body as object);
}

export function getReservation(app: TestApp, id: string, apiKey = 'demo') {
  return app.http().get(`${RESERVATIONS_PATH}/${id}`).set('X-API-Key', apiKey);
}

/** POST …/:id/commit, release or extend; without `body` nothing is sent. */
export function actOn(app: TestApp, id: string, action: ReservationAction, body?: unknown, apiKey = 'demo') {
  const request = app.http().post(`${RESERVATIONS_PATH}/${id}/${action}`).set('X-API-Key', apiKey);
  return body === undefined ? request : request.send(body as object);
}

let nextKey = 1;

/** Holds `lines` (productId → units) in store-1 and returns the new reservation. */
export async function reserve(app: TestApp, lines: Record<string, number>, options: { ttlSeconds?: number; key?: string; reference?: string } = {}): Promise<ReservationBody> {
  const response = await postReservation(app, {
    storeId: 'store-1',
    lines: Object.entries(lines).map(([productId, quantity]) => ({ productId, quantity })),
    idempotencyKey: options.key ?? `hold-${nextKey++}`,
    ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    ...(options.reference === undefined ? {} : { reference: options.reference }),
  });
  if (response.status !== 201) {
    throw new Error(`reserving ${JSON.stringify(lines)} answered ${response.status} ${response.text}`);
  }
  return response.body as ReservationBody;
}

/** Creates a level of store-1 with an admin key: version 1, nothing reserved. */
export async function createLevel(app: TestApp, productId: string, quantity: number): Promise<void> {
  await app.http().put(`/v1/stores/store-1/inventory/${productId}`).set('X-API-Key', 'ops').send({ quantity }).expect(201);
}

export async function levelOf(app: TestApp, productId: string, storeId = 'store-1'): Promise<LevelView> {
  const response = await app.http().get(`/v1/stores/${storeId}/inventory/${productId}`).set('X-API-Key', 'demo').expect(200);
  return response.body as LevelView;
}

/** The level's ledger entries, newest first. */
export async function historyOf(app: TestApp, productId: string, storeId = 'store-1'): Promise<LedgerEntry[]> {
  const response = await app.http().get(`/v1/stores/${storeId}/inventory/${productId}/history?limit=500`).set('X-API-Key', 'demo').expect(200);
  return response.body.items as LedgerEntry[];
}

/** The change feed of store-1 after `after`, oldest first. */
export async function changesAfter(app: TestApp, after: number): Promise<LedgerEntry[]> {
  const response = await app.http().get(`/v1/changes?storeId=store-1&after=${after}&limit=1000`).set('X-API-Key', 'demo').expect(200);
  return response.body.changes as LedgerEntry[];
}
