/**
 * Ringside's resources on the client: customers (+ wallet), usage, client tokens, webhooks.
 * They send through the OpenAI client they hang off, so its base URL, key, headers, timeout,
 * retries and error classes apply unchanged.
 */
import { randomUUID } from 'node:crypto';

import type OpenAI from 'openai';
import { Webhooks as OpenAIWebhooks } from 'openai/resources/webhooks';

import { Page, type Query } from './pagination.js';
import type {
  ClientToken,
  ClientTokenCreateParams,
  Customer,
  CustomerCreateParams,
  CustomerListParams,
  CustomerUpdateParams,
  Deleted,
  RequestOptions,
  Usage,
  UsageParams,
  Usd,
  Wallet,
  WalletTransaction,
  WebhookEndpoint,
} from './types.js';
import { verify } from './webhooks.js';

/** A path relative to the base URL, each id escaped (an external id may hold '/', '?' or '#'). */
function path(...parts: string[]): string {
  return '/' + parts.map((part) => encodeURIComponent(part).replace(/%3A/gi, ':').replace(/%40/g, '@')).join('/');
}

function idempotency(options: RequestOptions | undefined): { headers: Record<string, string> } {
  // The caller's key, else a fresh one: the client's retries of this one call reuse it.
  return { headers: { 'Idempotency-Key': options?.idempotencyKey ?? `ringside-node-${randomUUID()}` } };
}

interface ListEnvelope<Item> {
  data: Item[];
  has_more: boolean;
}

async function list<Item extends { id: string }>(
  client: OpenAI,
  where: string,
  query: Query,
  envelope: (answer: unknown) => ListEnvelope<Item> = (answer) => answer as ListEnvelope<Item>,
): Promise<Page<Item>> {
  const fetch = async (pageQuery: Query): Promise<Page<Item>> => {
    const answer = envelope(await client.get(where, { query: pageQuery }));
    return new Page(answer.data, answer.has_more, pageQuery, fetch);
  };
  return fetch(query);
}

export class Wallets {
  constructor(private readonly client: OpenAI) {}

  retrieve(customer: string): Promise<Wallet> {
    return this.client.get(path('customers', customer, 'wallet'));
  }

  /** Add credit (and enable the wallet); returns the transaction with `balance_after_usd`. */
  topup(customer: string, body: { amount_usd: Usd; description?: string }, options?: RequestOptions): Promise<WalletTransaction> {
    return this.client.post(path('customers', customer, 'wallet', 'topup'), { body, ...idempotency(options) });
  }

  /** A signed correction, with the reason recorded. */
  adjust(customer: string, body: { amount_usd: Usd; reason: string }, options?: RequestOptions): Promise<WalletTransaction> {
    return this.client.post(path('customers', customer, 'wallet', 'adjust'), { body, ...idempotency(options) });
  }

  /** Return credit for (part of) a debit. */
  refund(
    customer: string,
    body: { transaction_id: string; amount_usd?: Usd },
    options?: RequestOptions,
  ): Promise<WalletTransaction> {
    return this.client.post(path('customers', customer, 'wallet', 'refund'), { body, ...idempotency(options) });
  }

  /** Newest first; `for await` walks every transaction. */
  transactions(customer: string, query: { limit?: number; starting_after?: string } = {}): Promise<Page<WalletTransaction>> {
    return list(this.client, path('customers', customer, 'wallet'), query, (answer) => (answer as Wallet).transactions);
  }
}

export class Customers {
  readonly wallet: Wallets;

  constructor(private readonly client: OpenAI) {
    this.wallet = new Wallets(client);
  }

  /** Create, or return the existing customer with this `external_id` unchanged. */
  create(body: CustomerCreateParams, options?: RequestOptions): Promise<Customer> {
    return this.client.post('/customers', { body, ...idempotency(options) });
  }

  /** By `cus_…` id or `ext:<external_id>`; a deleted customer throws `NotFoundError`. */
  retrieve(customer: string): Promise<Customer> {
    return this.client.get(path('customers', customer));
  }

  update(customer: string, body: CustomerUpdateParams): Promise<Customer> {
    return this.client.patch(path('customers', customer), { body });
  }

  /** `force: true` zeroes a non-zero wallet first (else `ConflictError`). */
  delete(customer: string, options: { force?: boolean } = {}): Promise<Deleted> {
    return this.client.delete(path('customers', customer), { query: options.force ? { force: 'true' } : {} });
  }

  /** Newest first; `for await` walks every customer. */
  list(query: CustomerListParams = {}): Promise<Page<Customer>> {
    return list(this.client, '/customers', { ...query });
  }
}

export class UsageResource {
  constructor(private readonly client: OpenAI) {}

  retrieve(query: UsageParams = {}): Promise<Usage> {
    return this.client.get('/usage', { query });
  }
}

export class ClientTokens {
  constructor(private readonly client: OpenAI) {}

  /** Mint a browser token for one customer. */
  create(customer: string, body: ClientTokenCreateParams, options?: RequestOptions): Promise<ClientToken> {
    return this.client.post(path('customers', customer, 'client_tokens'), { body, ...idempotency(options) });
  }

  /** Invalidate every token of this customer issued before now. */
  revokeAll(customer: string): Promise<{ object: 'client_token_revocation'; revoked_before: number }> {
    return this.client.post(path('customers', customer, 'client_tokens', 'revoke_all'));
  }
}

/** Ringside's webhook endpoints and `verify` (OpenAI's own `unwrap` stays inherited). */
export class Webhooks extends OpenAIWebhooks {
  /** See `verify` in `webhooks.ts`: returns true or throws `SignatureVerificationError`. */
  readonly verify = verify;

  create(
    body: { url: string; events: string[]; description?: string },
    options?: RequestOptions,
  ): Promise<WebhookEndpoint> {
    return this._client.post('/webhooks', { body, ...idempotency(options) });
  }

  retrieve(endpoint: string): Promise<WebhookEndpoint> {
    return this._client.get(path('webhooks', endpoint));
  }

  delete(endpoint: string): Promise<Deleted> {
    return this._client.delete(path('webhooks', endpoint));
  }

  list(query: { limit?: number; starting_after?: string } = {}): Promise<Page<WebhookEndpoint>> {
    return list(this._client, '/webhooks', { ...query });
  }
}
