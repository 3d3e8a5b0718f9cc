// Vector stores (OpenAI's list shape): shown only when this edge serves /v1/vector_stores.
import { html } from "htm/preact";

import { count, when } from "../format.js";
import { Loading, Table, useResource } from "../ui.js";
import { MissingRoute } from "./requests.js";

function StoreTable({ rows }) {
  return html`<${Table}
    caption="Vector stores"
    rows=${rows}
    empty="No vector stores."
    columns=${[
      { label: "Name", cell: (s) => s.name || html`<code>${s.id}</code>` },
      { label: "Embedding model", cell: (s) => html`<code>${s.embedding_model || "—"}</code>` },
      { label: "Owner", cell: (s) => (s.customer_id ? html`<a href=${`#/customers/${s.customer_id}`}>${s.customer_id}</a>` : "account") },
      { label: "Files done / in progress / failed", cell: (s) => `${count(s.file_counts?.completed)} / ${count(s.file_counts?.in_progress)} / ${count(s.file_counts?.failed)}` },
      { label: "Status", cell: (s) => s.status || "—" },
      { label: "Created", cell: (s) => when(s.created_at) },
    ]}
  />`;
}

function Stores({ customerId }) {
  const list = useResource("/v1/vector_stores", { customer_id: customerId, limit: 50 });
  return html`<${Loading} state=${list}><${StoreTable} rows=${list.data?.data} /><//>`;
}

export function CustomerStores({ present, customerId }) {
  if (!present["/v1/vector_stores"]) return null;
  return html`<section aria-labelledby="c-stores-title">
    <h2 id="c-stores-title">Vector stores</h2>
    <${Stores} customerId=${customerId} />
  </section>`;
}

export function VectorStores({ present }) {
  return html`<div>
    <h1>Vector stores</h1>
    ${present["/v1/vector_stores"] ? html`<${Stores} />` : html`<${MissingRoute} route="/v1/vector_stores" what="This page" />`}
  </div>`;
}
