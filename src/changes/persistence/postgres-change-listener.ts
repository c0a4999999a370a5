import { Client } from 'pg';

export const CHANGES_CHANNEL = 'inventory_changes';
const RECONNECT_DELAY_MS = 1000;

/**
 * LISTENs on PostgreSQL for commits of any instance (each group transaction NOTIFYs its last
 * seq), on a connection of its own, reconnecting after failures.
 */
export class PostgresChangeListener {
  private client: Client | undefined;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly onSeq: (seq: number) => void,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.connectionString, application_name: 'inventory-service-listener', connectionTimeoutMillis: 2000 });
    client.on('notification', (message) => {
      const seq = Number(message.payload);
      if (Number.isSafeInteger(seq)) {
        this.onSeq(seq);
      }
    });
    client.on('error', (error) => this.retry(client, error));
    client.on('end', () => this.retry(client, new Error('listener connection ended')));
    try {
      await client.connect();
      await client.query(`listen ${CHANGES_CHANNEL}`);
      this.client = client;
    } catch (error) {
      this.retry(client, error);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => undefined);
  }

  private retry(client: Client, error: unknown): void {
    if (this.stopped || (this.client !== undefined && this.client !== client) || this.reconnectTimer !== undefined) {
      return;
    }
    this.onFailure(error);
    this.client = undefined;
    void client.end().catch(() => undefined);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.start();
    }, RECONNECT_DELAY_MS);
    this.reconnectTimer.unref();
  }
}
