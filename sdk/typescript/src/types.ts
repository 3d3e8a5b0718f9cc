/**
 * Ringside's own objects (API.md). USD amounts are JSON numbers exact to 9 decimals; money
 * arguments accept a number or a numeric string (pass a string to keep an exact decimal).
 */
export type Usd = number | string;
export type Metadata = Record<string, string | number | boolean>;

export interface Deleted {
  id: string;
  object: string;
  deleted: true;
}

export interface Customer {
  id: string;
  object: 'customer';
  livemode: boolean;
  external_id: string | null;
  name: string | null;
  email: string | null;
  metadata: Metadata;
  budget_usd: number | null;
  rate_limit_rpm: number | null;
  rate_limit_tpm: number | null;
  allowed_models?: string[] | null;
  blocked: boolean;
  tier_id: string | null;
  billing_anchor_day?: number;
  stripe_customer_id: string | null;
  spend_usd_mtd: number;
  request_count_mtd: number;
  budget_status: 'ok' | 'exceeded';
  period_start: number;
  period_end: number;
  wallet: { enabled: boolean; balance_usd: number; low_threshold_usd: number | null };
  created: number;
  [field: string]: unknown;
}

export interface CustomerCreateParams {
  external_id?: string;
  name?: string;
  email?: string;
  metadata?: Metadata;
  /** null = no cap, 0 = nothing allowed; left out, it inherits from the tier. */
  budget_usd?: Usd | null;
  rate_limit_rpm?: number | null;
  rate_limit_tpm?: number | null;
  allowed_models?: string[] | null;
  tier_id?: string;
  billing_anchor_day?: number;
  stripe_customer_id?: string;
  wallet?: { enabled?: boolean; low_threshold_usd?: Usd };
  blocked?: boolean;
}

export interface CustomerUpdateParams extends Omit<CustomerCreateParams, 'external_id'> {
  /** Fields that go back to inheriting (e.g. `["budget_usd"]`). */
  unset?: string[];
}

export interface CustomerListParams {
  limit?: number;
  starting_after?: string;
  external_id?: string;
  query?: string;
}

export interface WalletTransaction {
  id: string;
  object: 'wallet_transaction';
  type: 'topup' | 'debit' | 'adjust' | 'refund';
  amount_usd: number;
  balance_after_usd: number;
  request_id: string | null;
  description: string | null;
  created: number;
}

export interface Wallet {
  object: 'wallet';
  enabled: boolean;
  balance_usd: number;
  held_usd?: number;
  low_threshold_usd: number | null;
  transactions: { object: 'list'; data: WalletTransaction[]; has_more: boolean };
}

export interface UsageRow {
  date?: string;
  model?: string;
  customer_id?: string;
  total_cost_usd: number;
  total_billable_usd: number;
  total_margin_usd: number;
  request_count: number;
  input_tokens: number;
  output_tokens: number;
}

export interface Usage extends UsageRow {
  object: 'usage';
  data: UsageRow[];
  has_more: boolean;
}

export interface UsageParams {
  customer_id?: string;
  since?: string | number;
  until?: string | number;
  group_by?: 'day' | 'model' | 'customer';
  order_by?: 'billable_usd' | 'cost_usd' | 'margin_usd' | 'request_count';
  order?: 'desc' | 'asc';
  limit?: number;
  starting_after?: string;
}

export interface ClientToken {
  id: string;
  object: 'client_token';
  /** The JWT for `Authorization: Client <token>`; null in an idempotent replay. */
  token: string | null;
  customer_id: string;
  origin: string;
  ip: string | null;
  allowed_endpoints: string[];
  created: number;
  expires_at: number;
}

export interface ClientTokenCreateParams {
  origin: string;
  /** `"METHOD /path"` entries; `:id` matches only the token's own customer, `*` one thread, message, run or step id (as in `POST /v1/threads/&ast;/runs`). */
  allowed_endpoints: string[];
  /** 60..3600, default 900. */
  ttl_seconds?: number;
  ip?: string;
}

export interface WebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  livemode: boolean;
  url: string;
  events: string[];
  description: string | null;
  status: 'enabled' | 'disabled';
  /** Shown once, at create and rotate. */
  secret?: string | null;
  previous_secret_expires_at: number | null;
  created: number;
}

export interface RequestOptions {
  /** `Idempotency-Key`; without one, a fresh key per call covers the client's own retries. */
  idempotencyKey?: string;
}
