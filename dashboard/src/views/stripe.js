// Stripe usage sync (scope api:admin): settings and the sync runs with their lag and errors.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { call } from "../api.js";
import { count, when } from "../format.js";
import { ActionStatus, Loading, ReadOnlyNote, Table, useAction, useResource } from "../ui.js";

const VALUES = { billable_cents: "Billable, in cents", cost_cents: "Cost, in cents", tokens: "Tokens" };

function Settings({ caps }) {
  const [version, setVersion] = useState(0);
  const settings = useResource("/v1/billing/stripe", undefined, version);
  const [state, run] = useAction();
  const s = settings.data || {};
  const unset = settings.error?.status === 404; // nothing saved yet: the form is how to start
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const body = { meter_event_name: form.meter_event_name.value.trim(), value: form.value.value };
    // PUT replaces the settings whole, and the stored key is only ever shown redacted: sending that
    // back would store the redaction, so the key is asked for on every save
    body.secret_key = form.secret_key.value.trim();
    if (await run(() => call("PUT", "/v1/billing/stripe", { body }), "Stripe settings saved.")) setVersion((v) => v + 1);
  }
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="stripe-settings-title">
    <h2 id="stripe-settings-title">Settings</h2>
    <${Loading} state=${unset ? { ...settings, error: null } : settings}>
      <p class="muted">Secret key: <code>${s.secret_key || "not set"}</code>${s.updated ? ` · updated ${when(s.updated)}` : ""}</p>
      <fieldset disabled=${!caps.admin || state.busy}>
        <div class="field"><label for="stripe-secret">Stripe secret key (needed on every save)</label>
          <input id="stripe-secret" name="secret_key" type="password" autocomplete="off" required maxlength="255" placeholder="sk_live_… or rk_live_…" /></div>
        <div class="field"><label for="stripe-meter">Meter event name</label>
          <input id="stripe-meter" name="meter_event_name" maxlength="300" defaultValue=${s.meter_event_name || ""} /></div>
        <div class="field"><label for="stripe-value">Value pushed</label>
          <select id="stripe-value" name="value">
            ${Object.entries(VALUES).map(([value, label]) => html`<option value=${value} selected=${value === (s.value || "billable_cents")}>${label}</option>`)}
          </select></div>
        <button type="submit">Save</button>
      </fieldset>
    <//>
    <${ActionStatus} state=${state} />
  </form>`;
}

export function Stripe({ caps }) {
  const syncs = useResource("/v1/billing/stripe/syncs", { limit: 50 });
  const lag = syncs.data?.lag_seconds;
  return html`<div>
    <h1>Stripe</h1>
    <${ReadOnlyNote} caps=${caps} need="admin" />
    <${Settings} caps=${caps} />
    <section aria-labelledby="syncs-title">
      <h2 id="syncs-title">Sync runs</h2>
      <${Loading} state=${syncs}>
        <p class="muted">Lag: ${lag === null || lag === undefined ? "—" : `${lag} s`} · customers failing: ${count(syncs.data?.failing_customers?.length ?? syncs.data?.failing_customers)}</p>
        <${Table}
          caption="Stripe sync runs"
          rows=${syncs.data?.data}
          empty="No sync runs yet."
          columns=${[
            { label: "Started", cell: (r) => when(r.started) },
            { label: "Status", cell: (r) => html`<span class=${r.status === "failed" ? "negative" : ""}>${r.status}</span>` },
            { label: "Events pushed", className: "num", cell: (r) => count(r.pushed) },
            { label: "Units", className: "num", cell: (r) => count(r.units_pushed) },
            { label: "Failed", className: "num", cell: (r) => count(r.failed) },
            { label: "Errors", cell: (r) => (r.errors.length ? r.errors.map((e) => html`<div>${typeof e === "string" ? e : JSON.stringify(e)}</div>`) : "—") },
            { label: "Finished", cell: (r) => when(r.finished) },
          ]}
        />
      <//>
    </section>
  </div>`;
}
