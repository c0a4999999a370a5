/** Why and for what a change was made (e.g. reason `sale`, reference `order-1001`), kept in the ledger. */
export interface ChangeNote {
  readonly reason?: string;
  readonly reference?: string;
}

/** A request to change one level by `delta`, valid only if the level is still at `expectedVersion`. */
export interface UpdateCommand extends ChangeNote {
  readonly storeId: string;
  readonly productId: string;
  readonly delta: number;
  readonly expectedVersion: number;
  readonly idempotencyKey: string;
}

/**
 * An administrator's absolute quantity for one level: creates it when it does not exist and no
 * version is given; otherwise sets it, only at `expectedVersion`.
 */
export interface SetLevelCommand extends ChangeNote {
  readonly storeId: string;
  readonly productId: string;
  readonly quantity: number;
  readonly expectedVersion?: number;
  /** Where the expected version came from: the body's `version` or the If-Match header. */
  readonly precondition?: 'version' | 'if-match';
  readonly idempotencyKey?: string;
}
