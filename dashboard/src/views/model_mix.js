// Which models the spend went to: a table with each model's share of billable spend.
import { html } from "htm/preact";

import { count, usd } from "../format.js";
import { Table } from "../ui.js";

export function ModelMix({ rows }) {
  const data = rows || [];
  const total = data.reduce((sum, r) => sum + Number(r.total_billable_usd), 0);
  return html`<${Table}
    caption="Model mix"
    rows=${data}
    empty="No model calls in this period."
    columns=${[
      { label: "Model", cell: (r) => html`<code>${r.model}</code>` },
      { label: "Requests", className: "num", cell: (r) => count(r.request_count) },
      { label: "Spend", className: "num", cell: (r) => usd(r.total_billable_usd) },
      { label: "Cost", className: "num", cell: (r) => usd(r.total_cost_usd) },
      {
        label: "Share",
        cell: (r) => {
          const share = total > 0 ? Number(r.total_billable_usd) / total : 0;
          return html`<meter min="0" max="1" value=${share} aria-label=${`${r.model} share`}></meter> ${(share * 100).toFixed(0)}%`;
        },
      },
    ]}
  />`;
}
