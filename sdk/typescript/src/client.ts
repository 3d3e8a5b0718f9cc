/**
 * `Ringside`: the official OpenAI client (openai-node) pointed at Ringside. Every OpenAI method,
 * `.withResponse()`, streaming, `maxRetries` and `timeout` behave as in openai-node; it adds the
 * key and base URL from `RINGSIDE_API_KEY` / `RINGSIDE_BASE_URL`, `withCustomer()`, Ringside's
 * error classes and Ringside's resources.
 */
import OpenAI, { type APIError, type ClientOptions } from 'openai';

import { statusError } from './errors.js';
import { ClientTokens, Customers, UsageResource, Webhooks } from './resources.js';

/** What `ringside up` serves (DECISIONS.md "22"). */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080/v1';
const CUSTOMER_HEADER = 'FC-Customer';

function environment(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env[name] || undefined;
}

export class Ringside extends OpenAI {
  customers: Customers = new Customers(this);
  usage: UsageResource = new UsageResource(this);
  clientTokens: ClientTokens = new ClientTokens(this);
  override webhooks: Webhooks = new Webhooks(this);

  constructor({ apiKey, baseURL, ...options }: ClientOptions = {}) {
    // Never fall back to OPENAI_API_KEY: that would send an OpenAI secret to a Ringside server.
    const key = apiKey ?? environment('RINGSIDE_API_KEY');
    if (!key) {
      throw new OpenAI.OpenAIError(
        'The apiKey client option must be set, or the RINGSIDE_API_KEY environment variable (sk_live_… or sk_test_…).',
      );
    }
    super({ ...options, apiKey: key, baseURL: baseURL ?? environment('RINGSIDE_BASE_URL') ?? DEFAULT_BASE_URL });
  }

  /** A client whose every call is attributed to `customer` (`cus_…` or `ext:<external_id>`). */
  withCustomer(customer: string): this {
    const headers = { ...(this._options.defaultHeaders as Record<string, string> | undefined), [CUSTOMER_HEADER]: customer };
    return this.withOptions({ defaultHeaders: headers });
  }

  protected override makeStatusError(status: number, error: object, message: string | undefined, headers: Headers): APIError {
    return statusError(status, error, message, headers);
  }
}
