// One customer at its own URL (#/customers/cus_…): charts, wallet, limits, actions, recent calls.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { call, newIdempotencyKey } from "../api.js";
import { count, period, usd, when } from "../format.js";
import { ActionStatus, Loading, ReadOnlyNote, Secret, Stat, Table, useAction, useResource } from "../ui.js";
import { SpendBar, Status } from "./customers.js";
import { ModelMix } from "./model_mix.js";
import { DailyChart, Totals } from "./overview.js";
import { RecentCalls } from "./requests.js";
import { CustomerStores } from "./vector_stores.js";

const LIMITS = [
  { name: "budget_usd", label: "Monthly budget (USD)", step: "any", max: 1e9 },
  { name: "rate_limit_rpm", label: "Requests per minute", step: "1", max: 1e9 },
  { name: "rate_limit_tpm", label: "Tokens per minute", step: "1", max: 1e9 },
];

function explicit(customer, name) {
  return customer.limits_source?.[name] === "customer";
}

function Limits({ customer, caps, onSaved }) {
  const [state, run] = useAction();
  const tiers = useResource("/v1/tiers", { limit: 100 });
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const body = { unset: [] };
    for (const { name } of LIMITS) {
      const raw = form[name].value.trim();
      if (form[`${name}_none`].checked) body[name] = null;
      else if (raw === "") body.unset.push(name);
      else body[name] = name === "budget_usd" ? raw : Number(raw);
    }
    body.tier_id = form.tier_id.value || null;
    await run(() => call("PATCH", `/v1/customers/${customer.id}`, { body }), "Limits saved.");
    onSaved();
  }
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="limits-title">
    <h2 id="limits-title">Limits and budget</h2>
    <p class="muted">Leave a field empty to inherit it from the tier; tick “none” for no limit.</p>
    <fieldset disabled=${!caps.write || state.busy}>
      ${LIMITS.map(
        ({ name, label, step, max }) => html`<div class="field">
          <label for=${name}>${label}</label>
          <input id=${name} name=${name} type="number" min="0" max=${max} step=${step}
            defaultValue=${explicit(customer, name) && customer[name] !== null ? customer[name] : ""}
            placeholder=${explicit(customer, name) ? "" : `inherited: ${customer[name] ?? "none"}`} />
          <label class="check"><input type="checkbox" name=${`${name}_none`}
            defaultChecked=${explicit(customer, name) && customer[name] === null} /> none</label>
        </div>`,
      )}
      <div class="field">
        <label for="tier_id">Tier</label>
        <select id="tier_id" name="tier_id">
          <option value="" selected=${!customer.tier_id}>(account default)</option>
          ${(tiers.data?.data || []).map((t) => html`<option value=${t.id} selected=${t.id === customer.tier_id}>${t.name}</option>`)}
        </select>
      </div>
      <button type="submit">Save limits</button>
    </fieldset>
    <${ActionStatus} state=${state} />
  </form>`;
}

function Block({ customer, caps, onSaved }) {
  const [state, run] = useAction();
  const blocked = customer.blocked;
  const toggle = () =>
    run(
      () => call("PATCH", `/v1/customers/${customer.id}`, { body: { blocked: !blocked } }),
      blocked ? "Unblocked: calls are admitted again." : "Blocked: calls now get 403 customer_blocked.",
    ).then(onSaved);
  return html`<div>
    <button type="button" class=${blocked ? "" : "danger"} disabled=${!caps.write || state.busy} onClick=${toggle}>
      ${blocked ? "Unblock customer" : "Block customer"}
    </button>
    <${ActionStatus} state=${state} />
  </div>`;
}

function TopUp({ customer, caps, onDone }) {
  const [state, run] = useAction();
  // One key per intended top-up: a retry after a lost answer replays it instead of paying twice.
  const [idempotencyKey, setKey] = useState(newIdempotencyKey);
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { amount_usd: form.elements.amount_usd.value.trim() };
    const description = form.elements.description.value.trim();
    if (description) body.description = description;
    const wallet = await run(
      () => call("POST", `/v1/customers/${customer.id}/wallet/topup`, { body, idempotencyKey }),
      (t) => `Topped up: the balance is now ${usd(t.balance_after_usd)}.`,
    );
    if (wallet) {
      form.reset();
      setKey(newIdempotencyKey());
      onDone();
    }
  }
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="topup-title">
    <h2 id="topup-title">Top up the wallet</h2>
    <fieldset disabled=${!caps.write || state.busy}>
      <div class="field">
        <label for="amount_usd">Amount (USD)</label>
        <input id="amount_usd" name="amount_usd" type="number" min="0.000000001" max="1000000" step="any" required />
      </div>
      <div class="field">
        <label for="topup-description">Description</label>
        <input id="topup-description" name="description" maxlength="500" />
      </div>
      <p class="muted small">Idempotency key: <code>${idempotencyKey}</code></p>
      <button type="submit">Top up</button>
    </fieldset>
    <${ActionStatus} state=${state} />
  </form>`;
}

function ClientToken({ customer, caps }) {
  const [state, run] = useAction();
  const [token, setToken] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const body = {
      origin: form.origin.value.trim(),
      ttl_seconds: Number(form.ttl_seconds.value),
      allowed_endpoints: form.allowed_endpoints.value.split("\n").map((l) => l.trim()).filter(Boolean),
    };
    const minted = await run(
      () => call("POST", `/v1/customers/${customer.id}/client_tokens`, { body }),
      (t) => `Token minted; it expires ${when(t.expires_at)}.`,
    );
    setToken(minted?.token || null);
  }
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="token-title">
    <h2 id="token-title">Mint a Client Token</h2>
    <fieldset disabled=${!caps.write || state.busy}>
      <div class="field"><label for="origin">Origin</label><input id="origin" name="origin" required maxlength="300" defaultValue=${location.origin} /></div>
      <div class="field"><label for="ttl_seconds">Lifetime (seconds)</label><input id="ttl_seconds" name="ttl_seconds" type="number" min="60" max="3600" defaultValue="900" required /></div>
      <div class="field"><label for="allowed_endpoints">Allowed endpoints (one per line)</label>
        <textarea id="allowed_endpoints" name="allowed_endpoints" rows="3">${"GET /v1/customers/:id\nGET /v1/usage"}</textarea></div>
      <button type="submit">Mint token</button>
    </fieldset>
    <${ActionStatus} state=${state} />
    <${Secret} label="Client Token" value=${token} />
  </form>`;
}

function Wallet({ customer, reloadKey }) {
  const wallet = useResource(`/v1/customers/${customer.id}/wallet`, { limit: 20 }, reloadKey);
  return html`<section aria-labelledby="wallet-title">
    <h2 id="wallet-title">Wallet transactions</h2>
    <${Loading} state=${wallet}>
      <${Table}
        caption="Wallet transactions"
        rows=${wallet.data?.transactions?.data || wallet.data?.transactions}
        empty="No wallet transactions."
        columns=${[
          { label: "Time", cell: (t) => when(t.created) },
          { label: "Type", cell: (t) => t.type },
          { label: "Amount", className: "num", cell: (t) => usd(t.amount_usd) },
          { label: "Balance after", className: "num", cell: (t) => usd(t.balance_after_usd) },
          { label: "Request", cell: (t) => (t.request_id ? html`<code>${t.request_id}</code>` : "—") },
        ]}
      />
    <//>
  </section>`;
}

export function Customer({ id, caps, present }) {
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  const customer = useResource(`/v1/customers/${encodeURIComponent(id)}`, undefined, version);
  const range = period("month");
  const query = { customer_id: id, ...range };
  const totals = useResource("/v1/usage", query);
  const daily = useResource("/v1/usage", { ...query, group_by: "day", limit: 100 });
  const models = useResource("/v1/usage", { ...query, group_by: "model", limit: 100 });
  const c = customer.data;
  return html`<div>
    <p><a href="#/customers">← Customers</a></p>
    <${Loading} state=${customer}>
      ${c &&
      html`<div class="title-row">
          <h1>${c.external_id || c.id}</h1>
          <${Status} customer=${c} />
        </div>
        <p class="muted"><code>${c.id}</code>${c.name ? ` · ${c.name}` : ""}${c.email ? ` · ${c.email}` : ""}</p>
        <${ReadOnlyNote} caps=${caps} />
        <div class="stats">
          <${Stat} label="Spend this period" id="customer-spend" value=${usd(c.spend_usd_mtd)} />
          <${Stat} label="Budget" id="customer-budget" value=${c.budget_usd === null ? "no cap" : usd(c.budget_usd)} />
          <${Stat} label="Wallet" id="customer-wallet" value=${c.wallet?.enabled ? usd(c.wallet.balance_usd) : "off"} />
          <${Stat} label="Requests this period" id="customer-requests" value=${count(c.request_count_mtd)} />
        </div>
        <${SpendBar} customer=${c} />`}
    <//>
    <section aria-labelledby="c-daily-title">
      <h2 id="c-daily-title">Daily spend, cost and margin</h2>
      <${Loading} state=${totals}>${totals.data && html`<${Totals} usage=${totals.data} />`}<//>
      <${Loading} state=${daily}><${DailyChart} rows=${daily.data?.data} label="This customer" /><//>
    </section>
    <section aria-labelledby="c-mix-title">
      <h2 id="c-mix-title">Model mix</h2>
      <${Loading} state=${models}><${ModelMix} rows=${models.data?.data} /><//>
    </section>
    ${c &&
    html`<div class="columns">
        <${Limits} customer=${c} caps=${caps} onSaved=${bump} />
        <div>
          <${TopUp} customer=${c} caps=${caps} onDone=${bump} />
          <section class="panel" aria-label="Block">
            <h2>Access</h2>
            <${Block} customer=${c} caps=${caps} onSaved=${bump} />
          </section>
        </div>
      </div>
      <${Wallet} customer=${c} reloadKey=${version} />
      <${ClientToken} customer=${c} caps=${caps} />
      <section aria-labelledby="c-calls-title">
        <h2 id="c-calls-title">Recent calls</h2>
        <${RecentCalls} present=${present} customerId=${c.id} />
      </section>
      <${CustomerStores} present=${present} customerId=${c.id} />`}
  </div>`;
}
