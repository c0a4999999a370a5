/**
 * GENERATED FILE: do not edit.
 *
 * The types of the inventory service's openapi.json, made by openapi-typescript
 * (`npm run client:generate` at the repository root). When the API changes: `npm run openapi`,
 * then `npm run client:generate`. A test fails when this file is not what the generator makes
 * of the committed openapi.json.
 */

export interface paths {
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description HTTP latency by route and status, queue depth and wait, update outcomes, transaction time and group size, Node.js process metrics; with WORKERS > 1, the sum over every worker. Expose only to the monitoring network.
         */
        get: operations["MetricsController_scrape"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/problems": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every problem type this API answers with, as a page */
        get: operations["ProblemsController_index"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/problems/{type}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What a problem type means and what to do about it (the page a problem’s `type` points at) */
        get: operations["ProblemsController_describe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/inventory/updates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change stock: one update, or a batch for one store
         * @description Optimistic concurrency: `version` must be the level’s current version, else 409 VERSION_CONFLICT with `currentVersion`. Idempotent: every update carries a key; a retry with the same key and payload returns the stored answer with `Idempotent-Replayed: true`, the same key with another payload is refused with 422. A batch answers 200 with one result per item; with `atomic: true` all items apply or none.
         */
        post: operations["InventoryController_postUpdates"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/inventory/{productId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Stock of one product across the stores this key may see */
        get: operations["InventoryController_getProduct"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/stores/{storeId}/inventory": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A store’s levels, page by page
         * @description Keyset pagination by productId: pages stay consistent while levels change, and no level is skipped or repeated.
         */
        get: operations["InventoryController_listLevels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/stores/{storeId}/inventory/{productId}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A level’s history: its ledger entries, newest first */
        get: operations["InventoryController_history"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/stores/{storeId}/inventory/{productId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One stock level, with its version as ETag
         * @description Send `If-None-Match` with the ETag to get 304 while the level is unchanged.
         */
        get: operations["InventoryController_getLevel"];
        /**
         * Create a level, or set its absolute quantity (admin keys)
         * @description Without a version, creates the level (201, version 1); an existing level then answers 428. To change an existing level, name its current version in `version` (a stale one: 409) or in `If-Match: "<version>"` (a stale one: 412). The ledger records the change (kind create or set) with its reason and reference. An optional Idempotency-Key makes retries replay the first answer.
         */
        put: operations["InventoryController_setLevel"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/reservations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Hold a cart’s lines in one store while the customer pays
         * @description All lines are held or none; lines of one product are added up. No version is needed: availability (on hand less what other reservations hold) is decided inside the transaction, so holds on a hot SKU do not conflict. The hold lasts `ttlSeconds` (default RESERVATION_TTL_SECONDS), then goes back by itself unless committed or extended. Idempotent: a retry with the same key and payload returns the stored answer.
         */
        post: operations["ReservationsController_reserve"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/reservations/{reservationId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A reservation: its lines, status (active, committed, released or expired) and expiry */
        get: operations["ReservationsController_find"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/reservations/{reservationId}/commit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The order is placed: sell what is held (or fewer units; the rest is released)
         * @description On hand and reserved both drop. Without `lines` every held unit is sold; with `lines`, each listed product sells the given units (at most those held) and products left out sell none. Repeating the same commit answers the same. A hold that has expired is still committed when its units are available then, taken at once; otherwise 409 RESERVATION_EXPIRED.
         */
        post: operations["ReservationsController_commit"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/reservations/{reservationId}/release": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The cart is abandoned: the held units become available again
         * @description Repeating it, or releasing an expired hold, answers the reservation as it is.
         */
        post: operations["ReservationsController_release"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/reservations/{reservationId}/extend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Payment is still in flight: the hold lasts `ttlSeconds` from now */
        post: operations["ReservationsController_extend"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/changes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Changes after a seq, for keeping a copy in sync
         * @description Applied changes with seq > `after`, oldest first, in the stores this key may see. Apply them in order and the copy converges to the central state. When there is nothing newer, the call waits up to `waitSeconds` and answers as soon as a change commits (on any instance).
         */
        get: operations["ChangesController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/changes/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The change feed as Server-Sent Events
         * @description Each change is an event `change` with `id:` its seq and the change as JSON `data:`. Reconnecting clients send `Last-Event-ID` (browsers do it themselves) to resume where they left off. An idle stream sends a comment every STREAM_HEARTBEAT_MS. Every stream of an instance is served from one in-memory tail of recent changes, so open streams cost no database reads of their own.
         */
        get: operations["ChangesController_stream"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process is up and its event loop answers */
        get: operations["HealthController_live"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the database answers, the update queue has room, no shutdown in progress */
        get: operations["HealthController_ready"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        FieldIssueDto: {
            /** @example updates[1].delta */
            field: string;
            /** @example must be a non-zero integer from -1000000000 to 1000000000 */
            issue: string;
        };
        ProblemResponseDto: {
            /** @example /problems/validation-failed */
            type: string;
            /** @example Request validation failed */
            title: string;
            /** @example 400 */
            status: number;
            /** @example invalid request: delta */
            detail: string;
            /**
             * @example VALIDATION_FAILED
             * @enum {string}
             */
            code: "VALIDATION_FAILED" | "MALFORMED_JSON" | "UNAUTHENTICATED" | "STORE_FORBIDDEN" | "ADMIN_REQUIRED" | "ROUTE_NOT_FOUND" | "METHOD_NOT_ALLOWED" | "LEVEL_NOT_FOUND" | "PRODUCT_NOT_FOUND" | "IDEMPOTENCY_KEY_IN_USE" | "VERSION_CONFLICT" | "QUANTITY_LIMIT_EXCEEDED" | "FEED_POSITION_AHEAD" | "FEED_POSITION_EXPIRED" | "INSUFFICIENT_AVAILABLE" | "QUANTITY_BELOW_RESERVED" | "RESERVATION_NOT_FOUND" | "RESERVATION_NOT_ACTIVE" | "RESERVATION_EXPIRED" | "PRECONDITION_FAILED" | "PRECONDITION_REQUIRED" | "REQUEST_TIMEOUT" | "HEADERS_TOO_LARGE" | "EXPECTATION_FAILED" | "PAYLOAD_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "IDEMPOTENCY_KEY_REUSED" | "RATE_LIMITED" | "INTERNAL_ERROR" | "QUEUE_FULL" | "SHUTTING_DOWN" | "DATABASE_UNAVAILABLE" | "NOT_READY" | "PROCESSING_TIMEOUT";
            /** @example /v1/inventory/updates */
            instance?: string;
            /** @example 3f1c2a9e-8f0e-4a43-9d8b-2f7d1f0c9b4e */
            requestId?: string;
            /** @description Every invalid field (400 only). */
            errors?: components["schemas"]["FieldIssueDto"][];
        };
        InventoryUpdateCreateDto: {
            /**
             * @description Why the stock changed, as a lowercase token.
             * @example sale
             */
            reason?: string;
            /**
             * @description What the change is for, such as an order or delivery id.
             * @example order-1001
             */
            reference?: string;
            /** @example store-1 */
            storeId: string;
            /** @example SKU-001 */
            productId: string;
            /**
             * @description Change in quantity: positive to receive stock, negative to sell or remove it.
             * @example 5
             */
            delta: number;
            /**
             * @description The version of the level the change is based on (optimistic concurrency).
             * @example 12
             */
            version: number;
            /**
             * @description Required here or in the Idempotency-Key header (equal if both are sent).
             * @example test-001
             */
            idempotencyKey?: string;
        };
        InventoryBatchItemDto: {
            /**
             * @description Why the stock changed, as a lowercase token.
             * @example sale
             */
            reason?: string;
            /**
             * @description What the change is for, such as an order or delivery id.
             * @example order-1001
             */
            reference?: string;
            /** @example SKU-003 */
            productId: string;
            /** @example 10 */
            delta: number;
            /** @example 15 */
            version: number;
            /**
             * @description Each item carries its own key.
             * @example batch-success-001
             */
            idempotencyKey: string;
        };
        InventoryBatchUpdateCreateDto: {
            /** @example store-1 */
            storeId: string;
            /**
             * @description Apply all items or none. Default false: items are independent.
             * @default false
             */
            atomic: boolean;
            updates: components["schemas"]["InventoryBatchItemDto"][];
        };
        InventoryUpdateResponseDto: {
            /** @example SKU-001 */
            productId: string;
            /** @example 50 */
            newQuantity: number;
            /** @example 13 */
            newVersion: number;
            /**
             * @example true
             * @enum {boolean}
             */
            applied: true;
            /**
             * Format: date-time
             * @example 2025-09-02T15:30:00.000Z
             */
            lastUpdated: string;
        };
        InventoryUpdateFailureResponseDto: {
            /** @example SKU-001 */
            productId: string;
            /**
             * @example false
             * @enum {boolean}
             */
            applied: false;
            /** @example version conflict: expected 13, got 10 */
            error: string;
            /**
             * @example VERSION_CONFLICT
             * @enum {string}
             */
            code: "VERSION_CONFLICT" | "INSUFFICIENT_STOCK" | "LEVEL_NOT_FOUND" | "QUANTITY_LIMIT_EXCEEDED" | "IDEMPOTENCY_KEY_REUSED" | "BATCH_ABORTED";
            /**
             * @description The level’s version now (conflicts and insufficient stock).
             * @example 13
             */
            currentVersion?: number;
            /**
             * @description The level’s quantity now (insufficient stock).
             * @example 8
             */
            currentQuantity?: number;
        };
        BatchSummaryDto: {
            /** @example 2 */
            total: number;
            /** @example 1 */
            succeeded: number;
            /** @example 1 */
            failed: number;
        };
        InventoryBatchUpdateResponseDto: {
            /** @description One result per item, in request order: an InventoryUpdateResponse or an InventoryUpdateFailureResponse. */
            results: Record<string, never>[];
            summary: components["schemas"]["BatchSummaryDto"];
        };
        ProductLevelDto: {
            /** @example store-1 */
            storeId: string;
            /**
             * @description On hand.
             * @example 45
             */
            quantity: number;
            /**
             * @description Held by active reservations.
             * @example 0
             */
            reserved: number;
            /**
             * @description quantity - reserved.
             * @example 45
             */
            available: number;
            /** @example 12 */
            version: number;
            /**
             * Format: date-time
             * @example 2025-09-02T15:30:00.000Z
             */
            lastUpdated: string;
        };
        ProductStockResponseDto: {
            /** @example SKU-001 */
            productId: string;
            /**
             * @description On hand, summed over the levels listed (the stores this API key may see).
             * @example 45
             */
            totalQuantity: number;
            /**
             * @description Held by reservations, summed over the levels listed.
             * @example 0
             */
            totalReserved: number;
            /**
             * @description Available, summed over the levels listed.
             * @example 45
             */
            totalAvailable: number;
            levels: components["schemas"]["ProductLevelDto"][];
        };
        StockLevelResponseDto: {
            /** @example store-1 */
            storeId: string;
            /** @example SKU-001 */
            productId: string;
            /**
             * @description On hand.
             * @example 45
             */
            quantity: number;
            /**
             * @description Held by active reservations (checkouts in progress).
             * @example 0
             */
            reserved: number;
            /**
             * @description quantity - reserved: what can still be sold or reserved.
             * @example 45
             */
            available: number;
            /** @example 12 */
            version: number;
            /**
             * Format: date-time
             * @example 2025-09-02T15:30:00.000Z
             */
            lastUpdated: string;
        };
        StockLevelListResponseDto: {
            /** @description Ordered by productId. */
            items: components["schemas"]["StockLevelResponseDto"][];
            /** @description Pass as `cursor` for the next page; null on the last page. */
            nextCursor: string | null;
            /**
             * @description The last change seq committed when this page was read. A copy built from these pages catches up by following the change feed from the first page’s lastSeq, skipping changes whose version it already has.
             * @example 42
             */
            lastSeq: number;
        };
        ChangeResponseDto: {
            /**
             * @description Global, gap-free, increasing sequence number.
             * @example 42
             */
            seq: number;
            /** @example store-1 */
            storeId: string;
            /** @example SKU-001 */
            productId: string;
            /**
             * @description adjust: by delta; set: absolute quantity (admin); create: the level was created (admin); reserve: a reservation held units; commit: it sold them (delta < 0) and gave its hold back; release: it gave its hold back; expire: its hold ran out; extend: its hold was prolonged.
             * @example adjust
             * @enum {string}
             */
            kind: "adjust" | "set" | "create" | "reserve" | "commit" | "release" | "expire" | "extend";
            /** @example 5 */
            delta: number;
            /**
             * @description The quantity after this change.
             * @example 50
             */
            quantity: number;
            /**
             * @description Units held by active reservations after this change.
             * @example 2
             */
            reserved: number;
            /**
             * @description quantity - reserved after this change: what can still be sold or reserved.
             * @example 48
             */
            available: number;
            /**
             * @description The version after this change.
             * @example 13
             */
            version: number;
            /** @example sale */
            reason: string | null;
            /** @example order-1001 */
            reference: string | null;
            /** @example test-001 */
            idempotencyKey: string | null;
            /**
             * @description The reservation that made this change.
             * @example null
             */
            reservationId: string | null;
            /** @example 3f1c2a9e-8f0e-4a43-9d8b-2f7d1f0c9b4e */
            requestId: string | null;
            /**
             * Format: date-time
             * @example 2025-09-02T15:30:00.000Z
             */
            createdAt: string;
        };
        HistoryResponseDto: {
            /** @description Newest first. */
            items: components["schemas"]["ChangeResponseDto"][];
            /** @description Pass as `cursor` for the next (older) page; null on the last page. */
            nextCursor: string | null;
            /**
             * @description Ledger entries with a seq up to this one were pruned by retention (0: none were): a level’s history starts after it. Levels keep their quantity and version.
             * @example 0
             */
            prunedThroughSeq: number;
            /**
             * @description How long the ledger keeps entries (LEDGER_RETENTION), e.g. `30d`, or `off` when it keeps them all.
             * @example 30d
             */
            retention: string;
        };
        StockLevelSetDto: {
            /**
             * @description Why the stock changed, as a lowercase token.
             * @example sale
             */
            reason?: string;
            /**
             * @description What the change is for, such as an order or delivery id.
             * @example order-1001
             */
            reference?: string;
            /**
             * @description The absolute quantity to set.
             * @example 40
             */
            quantity: number;
            /**
             * @description The level’s current version, required to change an existing level (or send If-Match). Omit it to create a level.
             * @example 12
             */
            version?: number;
        };
        ReservationLineDto: {
            /** @example SKU-001 */
            productId: string;
            /**
             * @description Units to hold.
             * @example 2
             */
            quantity: number;
        };
        ReservationCreateDto: {
            /** @example store-1 */
            storeId: string;
            /** @description The cart: every line is held or none. Lines of one product are added up. */
            lines: components["schemas"]["ReservationLineDto"][];
            /**
             * @description How long the hold lasts (default and bounds: RESERVATION_TTL_SECONDS and its limits).
             * @example 900
             */
            ttlSeconds?: number;
            /**
             * @description What the hold is for, such as a cart or order id; kept in the ledger.
             * @example cart-8812
             */
            reference?: string;
            /**
             * @description Required here or in the Idempotency-Key header (equal if both are sent).
             * @example checkout-8812-1
             */
            idempotencyKey?: string;
        };
        ReservationLineResponseDto: {
            /** @example SKU-001 */
            productId: string;
            /**
             * @description Units held.
             * @example 2
             */
            quantity: number;
            /**
             * @description Units sold, once committed.
             * @example 2
             */
            committed?: number;
        };
        ReservationResponseDto: {
            /** @example res_3q7Yc2mWk1V8xZp0 */
            reservationId: string;
            /** @example store-1 */
            storeId: string;
            /**
             * @example active
             * @enum {string}
             */
            status: "active" | "committed" | "released" | "expired";
            /**
             * Format: date-time
             * @example 2026-11-30T10:15:00.000Z
             */
            expiresAt: string;
            lines: components["schemas"]["ReservationLineResponseDto"][];
            /** @example cart-8812 */
            reference: string | null;
            /**
             * Format: date-time
             * @example 2026-11-30T10:00:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @example 2026-11-30T10:00:00.000Z
             */
            updatedAt: string;
        };
        CommitLineDto: {
            /** @example SKU-001 */
            productId: string;
            /**
             * @description Units sold (at most those held).
             * @example 1
             */
            quantity: number;
        };
        ReservationCommitDto: {
            /** @description Units sold per product; a product left out sells none (its hold is released). Leave out `lines` to sell everything held. */
            lines?: components["schemas"]["CommitLineDto"][];
        };
        ReservationExtendDto: {
            /**
             * @description The hold lasts this long from now.
             * @example 600
             */
            ttlSeconds: number;
        };
        ChangesResponseDto: {
            changes: components["schemas"]["ChangeResponseDto"][];
            /**
             * @description Pass as `after` next time. Covers changes this key may not see, so it can be beyond the last change listed.
             * @example 42
             */
            lastSeq: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    MetricsController_scrape: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    ProblemsController_index: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page linking to each problem type. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    ProblemsController_describe: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                type: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description ROUTE_NOT_FOUND: no such problem type. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    InventoryController_postUpdates: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
                /** @description Single updates only: the idempotency key, instead of (or equal to) the `idempotencyKey` field. Bare (`k1`) or as a Structured Field string (`"k1"`); sent once, with one key. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["InventoryUpdateCreateDto"] | components["schemas"]["InventoryBatchUpdateCreateDto"];
            };
        };
        responses: {
            /** @description Single update applied, or a batch processed (see each item’s result). */
            200: {
                headers: {
                    /** @description `true` when this is the stored answer of an earlier request with the same key. */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InventoryUpdateResponseDto"] | components["schemas"]["InventoryBatchUpdateResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Single update: no stock level for this store and product (LEVEL_NOT_FOUND). */
            404: {
                headers: {
                    /** @description `true` when this is the stored answer of an earlier request with the same key. */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InventoryUpdateFailureResponseDto"];
                };
            };
            /** @description Single update: VERSION_CONFLICT, INSUFFICIENT_STOCK or QUANTITY_LIMIT_EXCEEDED; nothing changed. */
            409: {
                headers: {
                    /** @description `true` when this is the stored answer of an earlier request with the same key. */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InventoryUpdateFailureResponseDto"];
                };
            };
            /** @description Body larger than the limit. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description IDEMPOTENCY_KEY_REUSED: the key was used before with a different payload. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description QUEUE_FULL, SHUTTING_DOWN or DATABASE_UNAVAILABLE: not applied; retry after the given delay with the same key. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description PROCESSING_TIMEOUT: not finished in time; it may still apply. Retry with the same key to learn the outcome. */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    InventoryController_getProduct: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path: {
                productId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProductStockResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description PRODUCT_NOT_FOUND: no level of this product in any store visible to the key. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    InventoryController_listLevels: {
        parameters: {
            query?: {
                /** @description Most levels to return (1-500, default 100). */
                limit?: number;
                /** @description The nextCursor of the previous page. */
                cursor?: string;
            };
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path: {
                storeId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StockLevelListResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    InventoryController_history: {
        parameters: {
            query?: {
                /** @description Most entries to return (1-500, default 50). */
                limit?: number;
                /** @description The nextCursor of the previous page. */
                cursor?: string;
            };
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path: {
                storeId: string;
                productId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HistoryResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description LEVEL_NOT_FOUND: no stock level for this store and product. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    InventoryController_getLevel: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path: {
                storeId: string;
                productId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    /** @description The level’s version, quoted: `"13"`. */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StockLevelResponseDto"];
                };
            };
            /** @description Unchanged since the ETag sent in If-None-Match. */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description LEVEL_NOT_FOUND: no stock level for this store and product. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    InventoryController_setLevel: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
                /** @description Optional: a retry with the same key and body replays the stored answer (not of a 412 or 428). Bare (`k1`) or quoted (`"k1"`). */
                "Idempotency-Key"?: string;
                /** @description The level’s current version as its ETag, e.g. `"12"`. */
                "If-Match"?: string;
            };
            path: {
                storeId: string;
                productId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["StockLevelSetDto"];
            };
        };
        responses: {
            /** @description Set. */
            200: {
                headers: {
                    /** @description The new version. */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StockLevelResponseDto"];
                };
            };
            /** @description Created at version 1. */
            201: {
                headers: {
                    ETag?: string;
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StockLevelResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description ADMIN_REQUIRED: not an admin key (or STORE_FORBIDDEN). */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description LEVEL_NOT_FOUND: a version was given for a level that does not exist. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description VERSION_CONFLICT: `version` is stale; `currentVersion` has the current one. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description PRECONDITION_FAILED: If-Match is stale, or names a level that does not exist. */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description IDEMPOTENCY_KEY_REUSED: the key was used before with a different request. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description PRECONDITION_REQUIRED: the level exists; send its version to change it. */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description QUEUE_FULL, SHUTTING_DOWN or DATABASE_UNAVAILABLE: not applied; retry. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    ReservationsController_reserve: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
                /** @description The idempotency key, instead of (or equal to) the `idempotencyKey` field. Bare or quoted. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReservationCreateDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReservationResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description LEVEL_NOT_FOUND: a line names a product with no level in this store (`productIds`); nothing was held. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description INSUFFICIENT_AVAILABLE: `lines` names each short line with `requested` and `available`; nothing was held. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description IDEMPOTENCY_KEY_REUSED: the key was used before with a different payload. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description PROCESSING_TIMEOUT: not finished in time; retry with the same key to learn the outcome. */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    ReservationsController_find: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path: {
                reservationId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReservationResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RESERVATION_NOT_FOUND: no reservation has this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    ReservationsController_commit: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path: {
                reservationId: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["ReservationCommitDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReservationResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RESERVATION_NOT_FOUND: no reservation has this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RESERVATION_NOT_ACTIVE: already committed or released (`reservationStatus` tells which). RESERVATION_EXPIRED: the hold ran out and `lines` are short now. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description QUEUE_FULL, SHUTTING_DOWN or DATABASE_UNAVAILABLE: nothing was done; retry. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    ReservationsController_release: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path: {
                reservationId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReservationResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RESERVATION_NOT_FOUND: no reservation has this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RESERVATION_NOT_ACTIVE: already committed or released (`reservationStatus` tells which). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description QUEUE_FULL, SHUTTING_DOWN or DATABASE_UNAVAILABLE: nothing was done; retry. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    ReservationsController_extend: {
        parameters: {
            query?: never;
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path: {
                reservationId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReservationExtendDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReservationResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RESERVATION_NOT_FOUND: no reservation has this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RESERVATION_NOT_ACTIVE: already committed or released (`reservationStatus` tells which). RESERVATION_EXPIRED: the hold has already run out; reserve again. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description QUEUE_FULL, SHUTTING_DOWN or DATABASE_UNAVAILABLE: nothing was done; retry. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    ChangesController_list: {
        parameters: {
            query?: {
                /** @description Only this store’s changes (default: every store the key may see). */
                storeId?: string;
                /** @description Return changes with a seq greater than this (default 0: from the start). */
                after?: number;
                /** @description Most changes to return (1-1000, default 100). */
                limit?: number;
                /** @description When nothing is newer, wait up to this many seconds for a change (0-30, default 0). */
                waitSeconds?: number;
            };
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChangesResponseDto"];
                };
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description FEED_POSITION_AHEAD: `after` is beyond the last change of this feed (its seq is in `lastSeq`): the feed was restarted or restored, so following it from there would skip changes. Take a fresh snapshot and follow the feed from its first page’s lastSeq. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description FEED_POSITION_EXPIRED: `after` is older than what the ledger keeps (LEDGER_RETENTION; the last seq pruned is in `prunedThroughSeq`): the changes after it are gone. Take a fresh snapshot and follow the feed from its first page’s lastSeq. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    ChangesController_stream: {
        parameters: {
            query?: {
                /** @description Only this store’s changes (default: every store the key may see). */
                storeId?: string;
                /** @description Start after this seq (the Last-Event-ID header, when sent, wins). */
                after?: number;
            };
            header?: {
                /** @description Correlation id (1-128 visible ASCII), echoed back; one is generated when absent. */
                "X-Request-Id"?: string;
                /** @description Resume after this seq. */
                "Last-Event-ID"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An endless text/event-stream. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: `errors` names every field at fault. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description Missing or unknown X-API-Key. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description The API key may not access this store. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description FEED_POSITION_AHEAD: Last-Event-ID (or `after`) is beyond the last change of this feed (its seq is in `lastSeq`): the feed was restarted or restored, so following it from there would skip changes. Take a fresh snapshot and follow the feed from its first page’s lastSeq. Answered instead of the stream. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description FEED_POSITION_EXPIRED: Last-Event-ID (or `after`) is older than what the ledger keeps (LEDGER_RETENTION; the last seq pruned is in `prunedThroughSeq`): the changes after it are gone. Take a fresh snapshot and follow the feed from its first page’s lastSeq. Answered instead of the stream; a running stream that falls that far behind ends with an `expired` event carrying this problem. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description RATE_LIMITED: too many requests for this API key (or failed authentications from this address). */
            429: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description An unexpected failure; the body carries only the requestId to quote. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
            /** @description DATABASE_UNAVAILABLE or SHUTTING_DOWN: nothing was done; retry after the given delay. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
    HealthController_live: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
        };
    };
    HealthController_ready: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The database check also tells how commits reach the disk, read from the live connection: journalMode and synchronous on SQLite, synchronousCommit on PostgreSQL. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description NOT_READY: `checks` tells which check failed. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemResponseDto"];
                };
            };
        };
    };
}
