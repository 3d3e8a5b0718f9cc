// The operator's page (the admin key): accounts, each created with its first live and test keys.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { call, newIdempotencyKey } from "../api.js";
import { usd, when } from "../format.js";
import { ActionStatus, Loading, Pager, Secret, Table, useAction, usePages, useResource } from "../ui.js";

function TopUp({ account, onDone }) {
  const [state, run] = useAction();
  const [idempotencyKey, setKey] = useState(newIdempotencyKey);
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { amount_usd: form.elements.amount_usd.value.trim() };
    const funded = await run(
      () => call("POST", `/v1/accounts/${account.id}/balance/topup`, { body, idempotencyKey }),
      (a) => `Balance now ${usd(a.balance_usd)}.`,
    );
    if (funded) {
      form.reset();
      setKey(newIdempotencyKey());
      onDone();
    }
  }
  return html`<form class="row" onSubmit=${submit}>
    <label>Top up ${account.name || account.id} (USD)
      <input name="amount_usd" type="number" min="0.000000001" max="1000000" step="any" required /></label>
    <button type="submit" disabled=${state.busy}>Fund</button>
    <${ActionStatus} state=${state} />
  </form>`;
}

export function Accounts() {
  const pages = usePages();
  const list = useResource("/v1/accounts", { limit: 20, starting_after: pages.after });
  const [state, run] = useAction();
  const [keys, setKeys] = useState([]);
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { name: form.elements.name.value.trim() };
    const created = await run(
      () => call("POST", "/v1/accounts", { body, idempotencyKey: newIdempotencyKey() }),
      (a) => `Account ${a.id} created.`,
    );
    setKeys(created?.api_keys || []);
    if (created) {
      form.reset();
      list.reload();
    }
  }
  return html`<div>
    <h1>Accounts</h1>
    <form class="panel" onSubmit=${submit} aria-labelledby="new-account-title">
      <h2 id="new-account-title">New account</h2>
      <fieldset class="row" disabled=${state.busy}>
        <label>Name <input name="name" required maxlength="256" /></label>
        <button type="submit">Create account</button>
      </fieldset>
      <${ActionStatus} state=${state} />
      ${keys.map((k) => html`<${Secret} label=${`${k.livemode ? "Live" : "Test"} key`} value=${k.secret} />`)}
    </form>
    <${Loading} state=${list}>
      <${Table}
        caption="Accounts"
        rows=${list.data?.data}
        columns=${[
          { label: "Name", cell: (a) => a.name || "—" },
          { label: "Account", cell: (a) => html`<code>${a.id}</code>` },
          { label: "Prepaid balance", className: "num", cell: (a) => (a.prepaid_balance_enabled ? usd(a.balance_usd) : html`<span class="muted">off</span> ${usd(a.balance_usd)}`) },
          { label: "Created", cell: (a) => when(a.created) },
          { label: "", cell: (a) => html`<${TopUp} account=${a} onDone=${list.reload} />` },
        ]}
      />
      <${Pager} pages=${pages} list=${list.data} />
    <//>
  </div>`;
}
