// Every event emitted (/v1/events, kept 30 days), filterable by type; each one's JSON on demand.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { when } from "../format.js";
import { Loading, Pager, Table, usePages, useResource } from "../ui.js";

function List({ type }) {
  const pages = usePages();
  const list = useResource("/v1/events", { type, limit: 25, starting_after: pages.after });
  return html`<${Loading} state=${list}>
    <${Table}
      caption="Events"
      rows=${list.data?.data}
      empty="No events."
      columns=${[
        { label: "Time", cell: (v) => when(v.created) },
        { label: "Type", cell: (v) => html`<code>${v.type}</code>` },
        {
          label: "Event",
          cell: (v) => html`<details><summary><code>${v.id}</code></summary><pre>${JSON.stringify(v.data, null, 2)}</pre></details>`,
        },
      ]}
    />
    <${Pager} pages=${pages} list=${list.data} />
  <//>`;
}

export function Events() {
  const [type, setType] = useState("");
  const [typed, setTyped] = useState("");
  return html`<div>
    <h1>Events</h1>
    <form class="search" role="search" onSubmit=${(e) => {
      e.preventDefault();
      setType(typed.trim());
    }}>
      <label for="event-type">Type</label>
      <input id="event-type" maxlength="100" placeholder="customer.created" value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)} />
      <button type="submit">Filter</button>
    </form>
    <${List} type=${type} key=${type} />
  </div>`;
}
