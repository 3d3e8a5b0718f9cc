/** `@ringside/sdk`: Ringside's TypeScript SDK. */
export { DEFAULT_BASE_URL, Ringside } from './client.js';
export {
  APIError,
  AuthenticationError,
  BadRequestError,
  BudgetExceededError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
  SignatureVerificationError,
  WalletEmptyError,
} from './errors.js';
export { MatchBuilder, Model } from './model.js';
export { Page } from './pagination.js';
export { ClientTokens, Customers, UsageResource, Wallets, Webhooks } from './resources.js';
export type * from './types.js';
export { DEFAULT_TOLERANCE_S, verify, type HeaderBag, type VerifyOptions } from './webhooks.js';
export { Ringside as default } from './client.js';
