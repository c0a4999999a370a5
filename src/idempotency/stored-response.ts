/** An HTTP answer as stored for replay: the status and the exact body bytes (JSON text). */
export interface StoredResponse {
  readonly status: number;
  readonly body: string;
}

