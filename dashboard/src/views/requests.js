// /v1/requests (API.md "Usage"): recent calls, refusals included. Shown only when the edge serves
// the route; an edge without it answers 404 and these views say so instead.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { TimeChart } from "../charts.js";
import { count, usd, when } from "../format.js";
import { Loading, Pager, Table, usePages, useResource } from "../ui.js";

const REFUSED = new Set([402, 403, 429]);

export function MissingRoute({ route, what }) {
  return html`<p class="note" role="note">${what} needs <code>${route}</code>, which this Ringside edge does not serve yet.</p>`;
}

// Admitted requests per day come from usage; refusals only from /v1/requests (usage counts
// admitted calls only), so without that route the chart shows the first and says why.
export function RefusalsChart({ present, range, daily }) {
  const served = present["/v1/requests"];
  const recent = useResource(served ? "/v1/requests" : null, { ...range, limit: 100 });
  const days = new Map((daily || []).map((row) => [row.date, { admitted: row.request_count, refused: 0 }]));
  for (const row of recent.data?.data || []) {
    if (!REFUSED.has(row.status)) continue;
    const date = new Date(row.created * 1000).toISOString().slice(0, 10);
    const entry = days.get(date) || { admitted: 0, refused: 0 };
    entry.refused += 1;
    days.set(date, entry);
  }
  const refused = (recent.data?.data || []).filter((row) => REFUSED.has(row.status));
  const labels = [...days.keys()].sort();
  const series = [{ label: "Requests", values: labels.map((d) => days.get(d).admitted) }];
  if (served) series.push({ label: "Refused (402/403/429)", values: labels.map((d) => days.get(d).refused) });
  const chart = html`<${TimeChart}
    labels=${labels}
    money=${false}
    series=${series}
    summary=${served ? "Requests and refusals per day (refusals among the last 100 calls)" : "Requests per day"}
  />`;
  if (!served) return html`${chart}<${MissingRoute} route="/v1/requests" what="Refusals over time" />`;
  const byStatus = [...REFUSED].map((status) => [status, refused.filter((row) => row.status === status).length]);
  return html`<${Loading} state=${recent}>
    ${chart}
    <p class="muted" id="refusal-totals">
      ${refused.length} refused among the last ${count(recent.data?.data?.length)} calls${refused.length
        ? ` (${byStatus.filter(([, n]) => n).map(([status, n]) => `${status} × ${n}`).join(", ")})`
        : ""}
    </p>
  <//>`;
}

export function RequestTable({ rows }) {
  return html`<${Table}
    caption="Recent calls"
    rows=${rows}
    empty="No calls yet."
    columns=${[
      { label: "Time", cell: (r) => when(r.created) },
      { label: "Customer", cell: (r) => (r.customer_id ? html`<a href=${`#/customers/${r.customer_id}`}>${r.customer_id}</a>` : "—") },
      { label: "Model", cell: (r) => html`<code>${r.resolved_model || r.model}</code>` },
      {
        label: "Status",
        cell: (r) => html`<span class=${REFUSED.has(r.status) ? "negative" : ""}>${r.status}${r.error_code ? ` ${r.error_code}` : ""}</span>`,
      },
      { label: "Tokens in/out", className: "num", cell: (r) => `${count(r.input_tokens)} / ${count(r.output_tokens)}` },
      { label: "Billable", className: "num", cell: (r) => usd(r.billable_usd) },
      { label: "Latency", className: "num", cell: (r) => (r.latency_ms ? `${r.latency_ms} ms` : "—") },
    ]}
  />`;
}

export function RecentCalls({ present, customerId, status, limit = 20 }) {
  const served = present["/v1/requests"];
  const pages = usePages();
  const query = { customer_id: customerId, status, limit, starting_after: pages.after };
  const list = useResource(served ? "/v1/requests" : null, query);
  if (!served) return html`<${MissingRoute} route="/v1/requests" what="The list of recent calls" />`;
  return html`<${Loading} state=${list}>
    <${RequestTable} rows=${list.data?.data} />
    <${Pager} pages=${pages} list=${list.data} />
  <//>`;
}

export function Requests({ present }) {
  const [status, setStatus] = useState("");
  return html`<div>
    <h1>Requests</h1>
    ${present["/v1/requests"] &&
    html`<label class="inline">Status
      <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
        <option value="">All</option>
        <option value="200">200 served</option>
        <option value="402">402 budget or wallet</option>
        <option value="403">403 blocked or not allowed</option>
        <option value="429">429 rate limited</option>
      </select>
    </label>`}
    <${RecentCalls} present=${present} status=${status} limit=${50} key=${status} />
  </div>`;
}
