// Account settings of this mode (GET/PATCH /v1/account, scope api:admin).
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { call } from "../api.js";
import { usd } from "../format.js";
import { ActionStatus, Loading, ReadOnlyNote, useAction, useResource } from "../ui.js";

export function Account({ caps }) {
  const [version, setVersion] = useState(0);
  const account = useResource("/v1/account", undefined, version);
  const tiers = useResource("/v1/tiers", { limit: 100 });
  const [state, run] = useAction();
  const a = account.data || {};
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const body = {
      markup_pct: form.markup_pct.value.trim() || "0",
      low_threshold_pct: Number(form.low_threshold_pct.value),
      auto_create_customers: form.auto_create_customers.checked,
      default_tier_id: form.default_tier_id.value || null,
    };
    if (await run(() => call("PATCH", "/v1/account", { body }), "Account settings saved.")) setVersion((v) => v + 1);
  }
  return html`<div>
    <h1>Account</h1>
    <${ReadOnlyNote} caps=${caps} need="admin" />
    <${Loading} state=${account}>
      <p class="muted"><code>${a.id}</code> · ${a.livemode ? "live" : "test"} mode${a.prepaid_balance_enabled ? ` · prepaid balance ${usd(a.balance_usd)}` : ""}</p>
      <form class="panel" onSubmit=${submit} aria-label="Account settings">
        <fieldset disabled=${!caps.admin || state.busy}>
          <div class="field"><label for="markup_pct">Markup (%)</label>
            <input id="markup_pct" name="markup_pct" type="number" min="0" max="1000" step="any" defaultValue=${a.markup_pct ?? 0} /></div>
          <div class="field"><label for="low_threshold_pct">wallet.low at (% of budget)</label>
            <input id="low_threshold_pct" name="low_threshold_pct" type="number" min="1" max="100" step="1" defaultValue=${a.low_threshold_pct ?? 80} /></div>
          <div class="field"><label for="default_tier_id">Default tier</label>
            <select id="default_tier_id" name="default_tier_id">
              <option value="" selected=${!a.default_tier_id}>(none)</option>
              ${(tiers.data?.data || []).map((t) => html`<option value=${t.id} selected=${t.id === a.default_tier_id}>${t.name}</option>`)}
            </select></div>
          <label class="check"><input type="checkbox" name="auto_create_customers" defaultChecked=${!!a.auto_create_customers} /> Create unknown customers on their first call</label>
          <button type="submit">Save settings</button>
        </fieldset>
      </form>
    <//>
    <${ActionStatus} state=${state} />
  </div>`;
}
