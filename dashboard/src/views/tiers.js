// Tiers (/v1/tiers): default limits and markup a customer inherits.
import { html } from "htm/preact";

import { call, newIdempotencyKey } from "../api.js";
import { count, usd } from "../format.js";
import { ActionStatus, ConfirmButton, Loading, ReadOnlyNote, Table, useAction, useResource } from "../ui.js";

const NUMBERS = ["budget_usd", "rate_limit_rpm", "rate_limit_tpm", "markup_pct"];

export function Tiers({ caps }) {
  const list = useResource("/v1/tiers", { limit: 100 });
  const [state, run] = useAction();
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { name: form.elements.name.value.trim() };
    for (const name of NUMBERS) {
      const raw = form.elements[name].value.trim();
      if (raw !== "") body[name] = name === "rate_limit_rpm" || name === "rate_limit_tpm" ? Number(raw) : raw;
    }
    if (await run(() => call("POST", "/v1/tiers", { body, idempotencyKey: newIdempotencyKey() }), (t) => `Tier ${t.name} created.`)) {
      form.reset();
      list.reload();
    }
  }
  return html`<div>
    <h1>Tiers</h1>
    <${ReadOnlyNote} caps=${caps} />
    <form class="panel" onSubmit=${submit} aria-labelledby="new-tier-title">
      <h2 id="new-tier-title">New tier</h2>
      <fieldset class="row" disabled=${!caps.write || state.busy}>
        <label>Name <input name="name" required maxlength="256" /></label>
        <label>Budget (USD) <input name="budget_usd" type="number" min="0" max="1000000000" step="any" /></label>
        <label>Requests/min <input name="rate_limit_rpm" type="number" min="0" max="1000000000" step="1" /></label>
        <label>Tokens/min <input name="rate_limit_tpm" type="number" min="0" max="1000000000" step="1" /></label>
        <label>Markup % <input name="markup_pct" type="number" min="0" max="1000" step="any" /></label>
        <button type="submit">Create tier</button>
      </fieldset>
      <${ActionStatus} state=${state} />
    </form>
    <${Loading} state=${list}>
      <${Table}
        caption="Tiers"
        rows=${list.data?.data}
        columns=${[
          { label: "Name", cell: (t) => t.name },
          { label: "Budget", className: "num", cell: (t) => (t.budget_usd === null ? "no cap" : usd(t.budget_usd)) },
          { label: "RPM", className: "num", cell: (t) => count(t.rate_limit_rpm) },
          { label: "TPM", className: "num", cell: (t) => count(t.rate_limit_tpm) },
          { label: "Markup", className: "num", cell: (t) => (t.markup_pct === null ? "—" : `${t.markup_pct}%`) },
          {
            label: "",
            cell: (t) =>
              caps.write &&
              html`<${ConfirmButton} label="Delete" confirmLabel="Confirm delete" name=${t.name}
                action=${() => call("DELETE", `/v1/tiers/${t.id}`)} onDone=${list.reload} />`,
          },
        ]}
      />
    <//>
  </div>`;
}
