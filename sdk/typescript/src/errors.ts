/**
 * Ringside's errors (API.md "Errors"). Every status openai-node knows keeps its OpenAI class as
 * the base, so `catch (e) { if (e instanceof OpenAI.RateLimitError) … }` still works; each adds
 * `retryAfter` (seconds) from the envelope's `retry_after_seconds` or `Retry-After`. 402 has no
 * OpenAI class: `PaymentRequiredError`, split into `BudgetExceededError` and `WalletEmptyError`.
 */
import OpenAI, { APIError as OpenAIAPIError } from 'openai';

/** A webhook's signature did not verify: missing, malformed, tampered, stale or wrong secret. */
export class SignatureVerificationError extends Error {
  override name = 'SignatureVerificationError';
}

function retryAfterOf(error: unknown, headers: Headers | undefined): number | undefined {
  const fromBody = (error as { retry_after_seconds?: unknown } | undefined)?.retry_after_seconds;
  if (typeof fromBody === 'number' && fromBody > 0) return fromBody;
  const fromHeader = Number(headers?.get('retry-after') ?? NaN);
  return Number.isFinite(fromHeader) && fromHeader > 0 ? fromHeader : undefined;
}

export class BadRequestError extends OpenAI.BadRequestError {
  readonly retryAfter = retryAfterOf(this.error, this.headers);
}
export class AuthenticationError extends OpenAI.AuthenticationError {
  readonly retryAfter = retryAfterOf(this.error, this.headers);
}
export class PermissionDeniedError extends OpenAI.PermissionDeniedError {
  readonly retryAfter = retryAfterOf(this.error, this.headers);
}
export class NotFoundError extends OpenAI.NotFoundError {
  readonly retryAfter = retryAfterOf(this.error, this.headers);
}
export class ConflictError extends OpenAI.ConflictError {
  readonly retryAfter = retryAfterOf(this.error, this.headers);
}
export class RateLimitError extends OpenAI.RateLimitError {
  readonly retryAfter = retryAfterOf(this.error, this.headers);
}
export class InternalServerError extends OpenAI.InternalServerError {
  readonly retryAfter = retryAfterOf(this.error, this.headers);
}
/** Any other status (413 `payload_too_large`, …). */
export class APIError extends OpenAI.APIError<number, Headers> {
  readonly retryAfter = retryAfterOf(this.error, this.headers);
}
/** 402: the call cannot be paid for; waiting does not help. */
export class PaymentRequiredError extends APIError {}
/** 402 `customer_budget_exceeded`: the customer's monthly cap has no room for this call. */
export class BudgetExceededError extends PaymentRequiredError {}
/** 402 `customer_wallet_empty` (the customer's wallet) or `wallet_empty` (the account's balance). */
export class WalletEmptyError extends PaymentRequiredError {}

const BY_STATUS: Record<number, new (status: number, error: object | undefined, message: string | undefined, headers: Headers) => OpenAIAPIError> = {
  400: BadRequestError as never,
  401: AuthenticationError as never,
  402: PaymentRequiredError,
  403: PermissionDeniedError as never,
  404: NotFoundError as never,
  409: ConflictError as never,
  429: RateLimitError as never,
};
const PAYMENT_BY_CODE: Record<string, typeof PaymentRequiredError> = {
  customer_budget_exceeded: BudgetExceededError,
  budget_exceeded: BudgetExceededError,
  customer_wallet_empty: WalletEmptyError,
  wallet_empty: WalletEmptyError,
};

/** The exception for one error answer; `body` is the decoded JSON (the envelope or anything). */
export function statusError(status: number, body: unknown, message: string | undefined, headers: Headers): OpenAIAPIError {
  const envelope = (body as { error?: unknown } | undefined)?.error ?? body;
  const error = typeof envelope === 'object' && envelope !== null ? envelope : undefined;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (status === 402 && typeof code === 'string' && code in PAYMENT_BY_CODE) {
    return new PAYMENT_BY_CODE[code]!(status, error, message, headers);
  }
  const Kind = status >= 500 ? (InternalServerError as never) : BY_STATUS[status] ?? APIError;
  return new (Kind as typeof APIError)(status, error, message, headers);
}
