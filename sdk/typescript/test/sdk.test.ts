/**
 * @ringside/sdk against a live Ringside stack. The pytest driver (tests/sdk/test_typescript.py)
 * starts the stack and sets RINGSIDE_BASE_URL, RINGSIDE_API_KEY (a fresh account's test key) and
 * RINGSIDE_TEST_WEBHOOKS (deliveries signed by the server's own signing code).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import OpenAI from 'openai';

import {
  BudgetExceededError,
  ConflictError,
  Model,
  NotFoundError,
  PaymentRequiredError,
  Ringside,
  SignatureVerificationError,
  WalletEmptyError,
  verify,
} from '../src/index.js';

const CHAT_MODEL = 'fc:openai/gpt-4o-mini';
const HELLO = [{ role: 'user' as const, content: 'Hello' }];

function client(): Ringside {
  return new Ringside({ maxRetries: 0 }); // key and base URL from RINGSIDE_API_KEY / RINGSIDE_BASE_URL
}

function externalId(): string {
  return 'ts_' + randomBytes(6).toString('hex');
}

async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('the seed snippet in TypeScript: match: resolves offline under a test key', async () => {
  const ringside = new Ringside({ apiKey: process.env['RINGSIDE_API_KEY'] });
  const model = Model.match('anthropic', 'sonnet').minVersion(4).build();
  assert.equal(model, 'match:anthropic/sonnet>=4');
  const reply = await ringside.chat.completions.create({ model, messages: HELLO });
  assert.ok(reply.choices[0]?.message.content);
  const { response } = await ringside.chat.completions.create({ model, messages: HELLO }).withResponse();
  assert.match(response.headers.get('x-ringside-model-resolved') ?? '', /^fc:anthropic\/claude-sonnet-/);
});

test('streaming, timeout and retries are openai-node\'s', async () => {
  const stream = await client().chat.completions.create({ model: CHAT_MODEL, messages: HELLO, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  assert.ok(text.length > 0);
  const tuned = client().withOptions({ timeout: 7_500, maxRetries: 4 });
  assert.ok(tuned instanceof Ringside);
  assert.equal(tuned.maxRetries, 4);
});

test('the key never comes from OPENAI_API_KEY', () => {
  const saved = process.env['RINGSIDE_API_KEY'];
  delete process.env['RINGSIDE_API_KEY'];
  process.env['OPENAI_API_KEY'] = 'sk-an-openai-secret';
  try {
    assert.throws(() => new Ringside(), /RINGSIDE_API_KEY/);
  } finally {
    process.env['RINGSIDE_API_KEY'] = saved;
    delete process.env['OPENAI_API_KEY'];
  }
});

test('customers: create, retrieve by ext:, update, list, delete, and 404 after', async () => {
  const ringside = client();
  const id = externalId();
  const created = await ringside.customers.create({ external_id: id, name: 'Ada', budget_usd: 25, metadata: { plan: 'pro' } });
  assert.match(created.id, /^cus_/);
  assert.equal(created.budget_usd, 25);
  assert.equal((await ringside.customers.create({ external_id: id })).id, created.id);
  assert.equal((await ringside.customers.retrieve(`ext:${id}`)).id, created.id);
  assert.equal((await ringside.customers.update(created.id, { budget_usd: null })).budget_usd, null);
  assert.deepEqual((await ringside.customers.list({ external_id: id })).data.map((c) => c.id), [created.id]);
  assert.equal((await ringside.customers.delete(created.id)).deleted, true);
  await assert.rejects(ringside.customers.retrieve(created.id), (error: unknown) => {
    assert.ok(error instanceof NotFoundError && error instanceof OpenAI.NotFoundError);
    assert.equal(error.code, 'customer_not_found');
    assert.ok(error.requestID);
    return true;
  });
});

test('withCustomer attributes calls, and the two 402s are distinct classes', async () => {
  const ringside = client();
  const customer = await ringside.customers.create({ external_id: externalId() });
  await ringside.withCustomer(customer.id).chat.completions.create({ model: CHAT_MODEL, messages: HELLO, max_tokens: 5 });
  await eventually(async () => (await ringside.customers.retrieve(customer.id)).request_count_mtd === 1, 'the call counted');

  const capped = await ringside.customers.create({ external_id: externalId(), budget_usd: 0 });
  await assert.rejects(ringside.withCustomer(capped.id).chat.completions.create({ model: CHAT_MODEL, messages: HELLO }), (error: unknown) => {
    assert.ok(error instanceof BudgetExceededError && !(error instanceof WalletEmptyError));
    assert.equal((error as BudgetExceededError).status, 402);
    return true;
  });
  const prepaid = await ringside.customers.create({ external_id: externalId(), wallet: { enabled: true } });
  await assert.rejects(ringside.withCustomer(prepaid.id).chat.completions.create({ model: CHAT_MODEL, messages: HELLO }), (error: unknown) => {
    assert.ok(error instanceof WalletEmptyError && error instanceof PaymentRequiredError);
    assert.equal((error as WalletEmptyError).code, 'customer_wallet_empty');
    return true;
  });
});

test('wallet: top-up once per idempotency key, adjust, transactions, delete needs force', async () => {
  const ringside = client();
  const customer = await ringside.customers.create({ external_id: externalId() });
  const key = 'ts-topup-' + randomBytes(4).toString('hex');
  const first = await ringside.customers.wallet.topup(customer.id, { amount_usd: '5.00' }, { idempotencyKey: key });
  const again = await ringside.customers.wallet.topup(customer.id, { amount_usd: '5.00' }, { idempotencyKey: key });
  assert.equal(again.id, first.id);
  await ringside.customers.wallet.adjust(customer.id, { amount_usd: -1, reason: 'correction' });
  assert.equal((await ringside.customers.wallet.retrieve(customer.id)).balance_usd, 4);
  const types: string[] = [];
  for await (const transaction of await ringside.customers.wallet.transactions(customer.id, { limit: 1 })) types.push(transaction.type);
  assert.deepEqual(types, ['adjust', 'topup']);
  await assert.rejects(ringside.customers.delete(customer.id), ConflictError);
  assert.equal((await ringside.customers.delete(customer.id, { force: true })).deleted, true);
});

test('pagination walks every customer of a fresh account, newest first', async () => {
  const ringside = client();
  const made: string[] = [];
  for (let n = 0; n < 25; n += 1) made.push((await ringside.customers.create({ external_id: `ts-page-${n}-${externalId()}` })).id);
  const walked: string[] = [];
  for await (const customer of await ringside.customers.list({ limit: 10 })) walked.push(customer.id);
  assert.deepEqual(walked.filter((id) => made.includes(id)), [...made].reverse());
});

test('usage reports a customer\'s call', async () => {
  const ringside = client();
  const customer = await ringside.customers.create({ external_id: externalId() });
  await ringside.withCustomer(customer.id).chat.completions.create({ model: CHAT_MODEL, messages: HELLO, max_tokens: 5 });
  const usage = await eventually(async () => {
    const found = await ringside.usage.retrieve({ customer_id: customer.id, group_by: 'model' });
    return found.request_count === 1 && found;
  }, 'the call in usage');
  assert.ok(usage.total_billable_usd > 0);
  assert.deepEqual(usage.data.map((row) => row.model), [CHAT_MODEL]);
});

test('client tokens: mint, use from a browser origin, revoke', async () => {
  const ringside = client();
  const customer = await ringside.customers.create({ external_id: externalId() });
  const origin = 'https://app.example.com';
  const minted = await ringside.clientTokens.create(customer.id, { origin, allowed_endpoints: [`GET /v1/customers/${customer.id}`] });
  assert.ok(minted.token && minted.expires_at > 0);
  const browser = () =>
    fetch(`${process.env['RINGSIDE_BASE_URL']}/customers/${customer.id}`, {
      headers: { Authorization: `Client ${minted.token}`, Origin: origin },
    }).then((response) => response.status);
  assert.equal(await browser(), 200);
  assert.ok((await ringside.clientTokens.revokeAll(customer.id)).revoked_before > 0);
  await eventually(async () => (await browser()) === 401, 'the revoked token refused');
});

test('webhook endpoints: create shows the secret once, list, delete', async () => {
  const ringside = client();
  const endpoint = await ringside.webhooks.create({ url: 'https://hooks.example.invalid/ts', events: ['customer.created'] });
  assert.match(endpoint.secret ?? '', /^whsec_/);
  assert.equal((await ringside.webhooks.retrieve(endpoint.id)).secret ?? null, null);
  assert.ok((await ringside.webhooks.list({ limit: 100 })).data.some((e) => e.id === endpoint.id));
  assert.equal((await ringside.webhooks.delete(endpoint.id)).deleted, true);
});

interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
  at: number;
}
interface WebhookFixture {
  secret: string;
  old_secret: string;
  current: SignedDelivery;
  rotating: SignedDelivery;
}

const fixture = JSON.parse(process.env['RINGSIDE_TEST_WEBHOOKS'] ?? 'null') as WebhookFixture | null;

test('verify: valid, tampered, stale and rotated signatures made by the server', () => {
  assert.ok(fixture, 'RINGSIDE_TEST_WEBHOOKS is set by the pytest driver');
  const { secret, old_secret: oldSecret, current, rotating } = fixture;
  const now = current.at;
  assert.equal(verify(current.body, current.headers, secret, { now }), true);
  assert.equal(verify(Buffer.from(current.body), new Headers(current.headers), secret, { now }), true);
  assert.equal(verify(current.body, current.headers['X-FC-Signature'] ?? '', secret, { now }), true);
  assert.equal(client().webhooks.verify(current.body, current.headers, secret, { now }), true);

  const tampered = current.body.replace('customer.created', 'customer.deleted');
  assert.throws(() => verify(tampered, current.headers, secret, { now }), SignatureVerificationError);
  assert.throws(() => verify(current.body, current.headers, 'whsec_' + Buffer.alloc(32).toString('base64'), { now }), SignatureVerificationError);
  assert.throws(() => verify(current.body, current.headers, secret, { now: now + 301 }), /tolerance/);
  assert.equal(verify(current.body, current.headers, secret, { now: now + 301, toleranceS: 600 }), true);
  assert.throws(() => verify(current.body, {}, secret, { now }), SignatureVerificationError);
  assert.throws(() => verify(current.body, 't=1,v1=' + 'é'.repeat(64), secret, { now: 1 }), SignatureVerificationError);

  // during a rotation's overlap a receiver still on the old secret verifies by the Standard Webhooks header
  assert.equal(verify(rotating.body, rotating.headers, oldSecret, { now: rotating.at }), true);
  assert.throws(() => verify(rotating.body, rotating.headers['X-FC-Signature'] ?? '', oldSecret, { now: rotating.at }), SignatureVerificationError);
  assert.equal(verify(rotating.body, rotating.headers['X-FC-Signature'] ?? '', [oldSecret, secret], { now: rotating.at }), true);
});

test('Model builders give plain strings and refuse what the server would', () => {
  assert.equal(Model.fc('openai', 'gpt-4o-mini'), 'fc:openai/gpt-4o-mini');
  assert.equal(Model.slot('chat-default'), 'slot:chat-default');
  assert.equal(Model.match('openai', 'gpt').build(), 'match:openai/gpt>=0');
  for (const bad of [
    () => Model.fc('OpenAI', 'gpt-4o'),
    () => Model.fc('openai', 'gpt 4o'),
    () => Model.slot('a:b'),
    () => Model.match('anthropic', 'sonnet').minVersion(-1),
    () => Model.match('anthropic', 'sonnet').minVersion(1.5),
  ]) {
    assert.throws(bad, TypeError);
  }
});
