/** An HTTP answer as stored for replay: the status, the exact body bytes, and their type. */
export interface StoredResponse {
  readonly status: number;
  readonly body: string;
  /** Undefined for application/json. */
  readonly contentType?: string;
}
