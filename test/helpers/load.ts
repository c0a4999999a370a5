/** Small helpers for tests that drive the service with many concurrent clients over real HTTP. */

export interface Acknowledged {
  readonly storeId: string;
  readonly productId: string;
  readonly delta: number;
  readonly newVersion: number;
  readonly newQuantity: number;
  readonly idempotencyKey: string;
}

export interface ClientStats {
  acknowledged: Acknowledged[];
  conflicts: number;
  insufficient: number;
  unexpected: Array<{ status: number; body: string }>;
}

/** A deterministic pseudo-random sequence, so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One point-of-sale client: read the level, send a delta at that version, and on 409 try again
 * with the version the conflict reports, until `updates` changes were acknowledged.
 */
export async function readModifyWriteClient(options: {
  readonly baseUrls: readonly string[];
  readonly apiKey: string;
  readonly storeId: string;
  readonly productIds: readonly string[];
  readonly updates: number;
  readonly clientId: string;
  readonly seed: number;
}): Promise<ClientStats> {
  const random = seededRandom(options.seed);
  const stats: ClientStats = { acknowledged: [], conflicts: 0, insufficient: 0, unexpected: [] };
  const headers = { 'X-API-Key': options.apiKey, 'Content-Type': 'application/json' };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  let attempt = 0;
  while (stats.acknowledged.length < options.updates) {
    const productId = pick(options.productIds);
    const level = await fetch(`${pick(options.baseUrls)}/v1/stores/${options.storeId}/inventory/${productId}`, { headers });
    let { version } = (await level.json()) as { version: number };
    let delta = random() < 0.4 ? -1 - Math.floor(random() * 3) : 1 + Math.floor(random() * 5);
    for (;;) {
      attempt += 1;
      const idempotencyKey = `${options.clientId}-${attempt}`;
      const response = await fetch(`${pick(options.baseUrls)}/v1/inventory/updates`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ storeId: options.storeId, productId, delta, version, idempotencyKey }),
      });
      const text = await response.text();
      if (response.status === 200) {
        const body = JSON.parse(text) as { newVersion: number; newQuantity: number };
        stats.acknowledged.push({ storeId: options.storeId, productId, delta, newVersion: body.newVersion, newQuantity: body.newQuantity, idempotencyKey });
        break;
      }
      const failure = response.status === 409 ? (JSON.parse(text) as { code: string; currentVersion: number }) : undefined;
      if (failure?.code === 'VERSION_CONFLICT') {
        stats.conflicts += 1;
        version = failure.currentVersion;
      } else if (failure?.code === 'INSUFFICIENT_STOCK') {
        stats.insufficient += 1;
        version = failure.currentVersion;
        delta = Math.abs(delta);
      } else {
        stats.unexpected.push({ status: response.status, body: text });
        break;
      }
    }
  }
  return stats;
}

/** Acknowledged versions of one level must be exactly from+1 … to, each once. */
export function isGapFree(versions: readonly number[], from: number): boolean {
  const sorted = [...versions].sort((a, b) => a - b);
  return sorted.every((version, index) => version === from + 1 + index);
}
