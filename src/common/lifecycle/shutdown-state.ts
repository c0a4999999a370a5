import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/**
 * Whether this instance is shutting down. Set first thing in the shutdown sequence, so that new
 * requests are refused (503) and readiness fails while accepted work drains.
 */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  private drainingSince: Date | undefined;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  beginDraining(): void {
    this.drainingSince ??= new Date();
  }

  beforeApplicationShutdown(): void {
    this.beginDraining();
  }
}
