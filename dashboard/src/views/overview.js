// Spend, cost, billable and margin for a period; daily chart; top customers; model mix; refusals.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { TimeChart } from "../charts.js";
import { count, marginPct, period, usd } from "../format.js";
import { Loading, Stat, Table, useResource } from "../ui.js";
import { ModelMix } from "./model_mix.js";
import { RefusalsChart } from "./requests.js";

const PERIODS = { month: "This month", "7d": "Last 7 days", "30d": "Last 30 days" };

export function DailyChart({ rows, label }) {
  const data = rows || [];
  return html`<${TimeChart}
    labels=${data.map((r) => r.date)}
    series=${[
      { label: "Billable", values: data.map((r) => r.total_billable_usd) },
      { label: "Cost", values: data.map((r) => r.total_cost_usd) },
      { label: "Margin", values: data.map((r) => r.total_margin_usd), type: "line" },
    ]}
    summary=${`${label}: billable, cost and margin per day over ${data.length} days`}
  />`;
}

export function Totals({ usage }) {
  const pct = marginPct(usage.total_billable_usd, usage.total_cost_usd);
  return html`<div class="stats">
    <${Stat} label="Spend (billable)" id="total-billable" value=${usd(usage.total_billable_usd)} />
    <${Stat} label="Cost" id="total-cost" value=${usd(usage.total_cost_usd)} />
    <${Stat}
      label=${`Margin${pct === null ? "" : ` (${pct.toFixed(1)}%)`}`}
      id="total-margin"
      value=${usd(usage.total_margin_usd)}
      tone=${usage.total_margin_usd < 0 ? "negative" : ""}
    />
    <${Stat} label="Requests" id="total-requests" value=${count(usage.request_count)} />
  </div>`;
}

// A usage row names a customer by id; the link shows its external id once fetched.
function CustomerLink({ id }) {
  const customer = useResource(id ? `/v1/customers/${id}` : null);
  if (!id) return html`<span class="muted">unattributed</span>`;
  return html`<a href=${`#/customers/${id}`}>${customer.data?.external_id || id}</a>`;
}

function TopCustomers({ range, orderBy, order, title }) {
  const top = useResource("/v1/usage", { ...range, group_by: "customer", order_by: orderBy, order, limit: 5 });
  return html`<section aria-labelledby=${`top-${orderBy}`}>
    <h2 id=${`top-${orderBy}`}>${title}</h2>
    <${Loading} state=${top}>
      <${Table}
        caption=${title}
        rows=${top.data?.data}
        empty="No customer usage in this period."
        columns=${[
          { label: "Customer", cell: (r) => html`<${CustomerLink} id=${r.customer_id} />` },
          { label: "Spend", className: "num", cell: (r) => usd(r.total_billable_usd) },
          {
            label: "Margin",
            className: "num",
            cell: (r) =>
              r.total_margin_usd < 0
                ? html`<span class="negative" title="Negative margin: this customer costs more than it pays">⚠ ${usd(r.total_margin_usd)}</span>`
                : usd(r.total_margin_usd),
          },
        ]}
      />
    <//>
  </section>`;
}

export function Overview({ present }) {
  const [name, setName] = useState("month");
  const range = period(name);
  const totals = useResource("/v1/usage", range);
  const daily = useResource("/v1/usage", { ...range, group_by: "day", limit: 100 });
  const models = useResource("/v1/usage", { ...range, group_by: "model", limit: 100 });
  return html`<div>
    <div class="title-row">
      <h1>Overview</h1>
      <label class="inline">Period
        <select value=${name} onChange=${(e) => setName(e.currentTarget.value)}>
          ${Object.entries(PERIODS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
      </label>
    </div>
    <${Loading} state=${totals}>${totals.data && html`<${Totals} usage=${totals.data} />`}<//>
    <section aria-labelledby="daily-title">
      <h2 id="daily-title">Daily spend, cost and margin</h2>
      <${Loading} state=${daily}><${DailyChart} rows=${daily.data?.data} label="All customers" /><//>
    </section>
    <div class="columns">
      <${TopCustomers} range=${range} orderBy="billable_usd" order="desc" title="Top customers by spend" />
      <${TopCustomers} range=${range} orderBy="margin_usd" order="asc" title="Lowest margins first" />
    </div>
    <section aria-labelledby="mix-title">
      <h2 id="mix-title">Model mix</h2>
      <${Loading} state=${models}><${ModelMix} rows=${models.data?.data} /><//>
    </section>
    <section aria-labelledby="refusals-title">
      <h2 id="refusals-title">Requests and refusals</h2>
      <${Loading} state=${daily}><${RefusalsChart} present=${present} range=${range} daily=${daily.data?.data} /><//>
    </section>
  </div>`;
}
