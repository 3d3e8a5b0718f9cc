// Vector stores (OpenAI's list shape): shown only when this edge serves /v1/vector_stores. A store's
// page: its files and their status, its recent queries and stats, and its migrations where the edge
// serves them (hidden otherwise).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

import { routeExists } from "../api.js";
import { count, when } from "../format.js";
import { Loading, Stat, Table, useResource } from "../ui.js";
import { MissingRoute } from "./requests.js";

const WINDOWS = ["24h", "7d", "30d"];

function StoreTable({ rows }) {
  return html`<${Table}
    caption="Vector stores"
    rows=${rows}
    empty="No vector stores."
    columns=${[
      { label: "Name", cell: (s) => html`<a href=${`#/vector-stores/${s.id}`}>${s.name || s.id}</a>` },
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

function FileTable({ rows }) {
  return html`<${Table}
    caption="Files"
    rows=${rows}
    empty="No files attached."
    columns=${[
      { label: "File", cell: (f) => html`<code>${f.id}</code>` },
      { label: "Status", cell: (f) => html`<span class=${f.status === "failed" ? "negative" : ""}>${f.status}</span>` },
      { label: "Error", cell: (f) => (f.last_error ? `${f.last_error.code}: ${f.last_error.message}` : "—") },
      { label: "Size", className: "num", cell: (f) => `${count(f.usage_bytes)} B` },
      { label: "Attached", cell: (f) => when(f.created_at) },
    ]}
  />`;
}

function QueryTable({ rows }) {
  return html`<${Table}
    caption="Recent queries"
    rows=${rows}
    empty="No queries yet."
    columns=${[
      { label: "Time", cell: (q) => when(q.created_at) },
      { label: "Query", cell: (q) => q.query },
      { label: "Results", className: "num", cell: (q) => count(q.result_count) },
      { label: "Latency", className: "num", cell: (q) => `${q.latency_ms} ms` },
      { label: "Asked by", cell: (q) => (q.customer_id ? html`<a href=${`#/customers/${q.customer_id}`}>${q.customer_id}</a>` : "account") },
    ]}
  />`;
}

function Stats({ storeId }) {
  const [window, setWindow] = useState("7d");
  const stats = useResource(`/v1/vector_stores/${storeId}/stats`, { window });
  const s = stats.data;
  return html`<section aria-labelledby="vs-stats-title">
    <h2 id="vs-stats-title">Stats</h2>
    <label class="inline">Window
      <select value=${window} onChange=${(e) => setWindow(e.currentTarget.value)}>
        ${WINDOWS.map((w) => html`<option value=${w}>${w}</option>`)}
      </select>
    </label>
    <${Loading} state=${stats}>
      <div class="stats">
        <${Stat} label="Queries" id="store-query-count" value=${count(s?.query_count)} />
        <${Stat} label="Latency p50 / p95" value=${`${s?.latency_p50_ms ?? 0} / ${s?.latency_p95_ms ?? 0} ms`} />
        <${Stat} label="Queries with no result" value=${`${Math.round((s?.zero_result_rate || 0) * 100)}%`} />
        <${Stat} label="Chunks" id="store-chunks" value=${count(s?.chunk_count)} />
        <${Stat} label="Embedding tokens (ingest / queries)" value=${`${count(s?.ingest_embedding_tokens)} / ${count(s?.query_embedding_tokens)}`} />
      </div>
    <//>
  </section>`;
}

function Migrations({ storeId }) {
  const path = `/v1/vector_stores/${storeId}/migrations`;
  const [served, setServed] = useState(false);
  useEffect(() => {
    routeExists(path).then(setServed);
  }, [path]);
  const list = useResource(served ? path : null, { limit: 20 });
  if (!served) return null; // an edge without migrations: nothing to show, nothing to say
  return html`<section aria-labelledby="vs-migrations-title">
    <h2 id="vs-migrations-title">Migrations</h2>
    <${Loading} state=${list}>
      <${Table}
        caption="Migrations"
        rows=${list.data?.data}
        empty="No migrations."
        columns=${[
          { label: "Migration", cell: (m) => html`<code>${m.id}</code>` },
          { label: "Status", cell: (m) => m.status },
          { label: "From → to", cell: (m) => html`<code>${m.from_model}</code> → <code>${m.to_model}</code>` },
          { label: "Rollback until", cell: (m) => (m.rollback_until ? when(m.rollback_until) : "—") },
        ]}
      />
    <//>
  </section>`;
}

export function VectorStore({ id }) {
  const store = useResource(`/v1/vector_stores/${id}`);
  const files = useResource(`/v1/vector_stores/${id}/files`, { limit: 100 });
  const queries = useResource(`/v1/vector_stores/${id}/queries`, { limit: 20 });
  // ingest is asynchronous: poll while a file is still in progress
  const pending = (files.data?.data || []).some((f) => f.status === "in_progress");
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setInterval(files.reload, 2000);
    return () => clearInterval(timer);
  }, [pending]);
  const s = store.data;
  return html`<div>
    <p><a href="#/vector-stores">← Vector stores</a></p>
    <${Loading} state=${store}>
      <h1>${s?.name || id}</h1>
      <p class="muted"><code>${id}</code> · <code>${s?.embedding_model}</code> · ${s?.customer_id ? html`owner <a href=${`#/customers/${s.customer_id}`}>${s.customer_id}</a>` : "the account's"}</p>
    <//>
    <section aria-labelledby="vs-files-title">
      <h2 id="vs-files-title">Files</h2>
      <${Loading} state=${files}><${FileTable} rows=${files.data?.data} /><//>
    </section>
    <section aria-labelledby="vs-queries-title">
      <h2 id="vs-queries-title">Recent queries</h2>
      <${Loading} state=${queries}><${QueryTable} rows=${queries.data?.data} /><//>
    </section>
    <${Stats} storeId=${id} />
    <${Migrations} storeId=${id} />
  </div>`;
}
