import type { ErrorCode, ErrorDetail } from "./generated/protocol.js";

/** An error the hub answered (REST status and body, or a Socket.IO ack), or a transport failure. */
export class HubError extends Error {
  /** The stable error code (`unavailable` for a timeout or a lost connection). */
  readonly code: ErrorCode;
  /** The HTTP status of a REST answer (0 for a Socket.IO ack or a network failure). */
  readonly status: number;

  constructor(detail: ErrorDetail, status = 0) {
    super(detail.message);
    this.name = "HubError";
    this.code = detail.code;
    this.status = status;
  }

  /** Whether the same request may succeed later: rate limits, outages, timeouts. */
  get retryable(): boolean {
    return this.code === "unavailable" || this.code === "rate_limited" || this.code === "internal";
  }
}
