/** A request to change one level by `delta`, valid only if the level is still at `expectedVersion`. */
export interface UpdateCommand {
  readonly storeId: string;
  readonly productId: string;
  readonly delta: number;
  readonly expectedVersion: number;
  readonly idempotencyKey: string;
}
