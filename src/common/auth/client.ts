import type { StoreScope } from '../../config/app-config';

/** The authenticated caller. `id` is derived from the key and never reveals it. */
export class Client {
  constructor(
    readonly id: string,
    readonly stores: StoreScope,
    readonly isAdmin: boolean,
  ) {}

  canAccessStore(storeId: string): boolean {
    return this.stores === '*' || this.stores.includes(storeId);
  }
}
