// The customers table: search (?query=), spend against budget, wallet, status, tier; paginated.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

import { call } from "../api.js";
import { usd } from "../format.js";
import { ActionStatus, Loading, Pager, ReadOnlyNote, Table, useAction, usePages, useResource } from "../ui.js";

export function Status({ customer }) {
  if (customer.blocked) return html`<span class="pill negative">blocked</span>`;
  if (customer.budget_status === "exceeded") return html`<span class="pill warn">budget exceeded</span>`;
  return html`<span class="pill">active</span>`;
}

export function SpendBar({ customer }) {
  const spent = Number(customer.spend_usd_mtd || 0);
  const budget = customer.budget_usd;
  if (budget === null || budget === undefined) return html`${usd(spent)} <span class="muted">no cap</span>`;
  const label = `${usd(spent)} of ${usd(budget)}`;
  return html`<div class="spend">
    <meter min="0" max=${Number(budget) || 1} high=${Number(budget) * 0.8} optimum="0" value=${spent} aria-label=${`Spend ${label}`}></meter>
    <span>${label}</span>
  </div>`;
}

function NewCustomer({ onCreated }) {
  const [state, run] = useAction();
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { external_id: form.elements.external_id.value.trim() };
    const name = form.elements.name.value.trim();
    if (name) body.name = name;
    const created = await run(() => call("POST", "/v1/customers", { body }), (c) => `Customer ${c.id} ready.`);
    if (created) {
      form.reset();
      onCreated();
    }
  }
  return html`<details class="panel">
    <summary>New customer</summary>
    <form class="row" onSubmit=${submit}>
      <label>External id <input name="external_id" required maxlength="255" /></label>
      <label>Name <input name="name" maxlength="256" /></label>
      <button type="submit" disabled=${state.busy}>Create</button>
    </form>
    <${ActionStatus} state=${state} />
  </details>`;
}

export function Customers({ caps }) {
  const [typed, setTyped] = useState("");
  const [query, setQuery] = useState("");
  const pages = usePages();
  useEffect(() => {
    const timer = setTimeout(() => {
      if (typed !== query) {
        pages.reset();
        setQuery(typed);
      }
    }, 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const list = useResource("/v1/customers", { query, limit: 20, starting_after: pages.after });
  const tiers = useResource("/v1/tiers", { limit: 100 });
  const tierName = (id) => (tiers.data?.data || []).find((t) => t.id === id)?.name || id;
  return html`<div>
    <h1>Customers</h1>
    <${ReadOnlyNote} caps=${caps} />
    <form class="search" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label for="customer-search">Search by external id, name or email</label>
      <input id="customer-search" type="search" maxlength="200" value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)} />
    </form>
    ${caps.write && html`<${NewCustomer} onCreated=${list.reload} />`}
    <${Loading} state=${list}>
      <${Table}
        caption="Customers"
        rows=${list.data?.data}
        empty=${query ? "No customer matches." : "No customers yet."}
        columns=${[
          {
            label: "External id",
            cell: (c) => html`<a href=${`#/customers/${c.id}`}>${c.external_id || c.id}</a>${c.name ? html`<div class="muted">${c.name}</div>` : null}`,
          },
          { label: "Spend this period", cell: (c) => html`<${SpendBar} customer=${c} />` },
          { label: "Wallet", className: "num", cell: (c) => (c.wallet?.enabled ? usd(c.wallet.balance_usd) : html`<span class="muted">off</span>`) },
          { label: "Status", cell: (c) => html`<${Status} customer=${c} />` },
          { label: "Tier", cell: (c) => (c.tier_id ? tierName(c.tier_id) : html`<span class="muted">—</span>`) },
        ]}
      />
      <${Pager} pages=${pages} list=${list.data} />
    <//>
  </div>`;
}
