// Webhook endpoints (scope api:webhooks): create, rotate the secret, deliveries, redeliver.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { call, newIdempotencyKey } from "../api.js";
import { when } from "../format.js";
import { ActionStatus, Loading, ReadOnlyNote, Secret, Table, useAction, useResource } from "../ui.js";

function Redeliver({ endpoint, eventId, onDone }) {
  const [state, run] = useAction();
  const send = () =>
    run(
      () => call("POST", `/v1/webhooks/${endpoint.id}/deliveries/${eventId}/redeliver`),
      `Redelivery of ${eventId} queued.`,
    ).then(onDone);
  return html`<span>
    <button type="button" disabled=${state.busy} onClick=${send} aria-label=${`Redeliver ${eventId}`}>Redeliver</button>
    <${ActionStatus} state=${state} />
  </span>`;
}

function Endpoint({ id, caps }) {
  const [version, setVersion] = useState(0);
  const endpoint = useResource(`/v1/webhooks/${encodeURIComponent(id)}`, undefined, version);
  const deliveries = useResource(`/v1/webhooks/${encodeURIComponent(id)}/deliveries`, { limit: 50 }, version);
  const events = useResource("/v1/events", { limit: 20 });
  const [rotation, rotate] = useAction();
  const [secret, setSecret] = useState(null);
  const e = endpoint.data;
  const subscribed = (type) => e && (e.events.includes("*") || e.events.includes(type));
  const rotateSecret = async () => {
    const rotated = await rotate(() => call("POST", `/v1/webhooks/${id}/rotate_secret`), "Secret rotated; the old one keeps verifying for the overlap.");
    setSecret(rotated?.secret || null);
  };
  return html`<div>
    <p><a href="#/webhooks">← Webhooks</a></p>
    <${Loading} state=${endpoint}>
      ${e &&
      html`<h1>${e.url}</h1>
        <p class="muted"><code>${e.id}</code> · ${e.status} · events: ${e.events.join(", ")}</p>
        <section class="panel" aria-labelledby="rotate-title">
          <h2 id="rotate-title">Signing secret</h2>
          <button type="button" disabled=${!caps.webhooks || rotation.busy} onClick=${rotateSecret}>Rotate secret</button>
          <${ActionStatus} state=${rotation} />
          <${Secret} label="New signing secret" value=${secret} />
        </section>`}
    <//>
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Delivery attempts</h2>
      <${Loading} state=${deliveries}>
        <${Table}
          caption="Delivery attempts"
          rows=${deliveries.data?.data}
          empty="No delivery attempts yet."
          columns=${[
            { label: "Time", cell: (a) => when(a.created) },
            { label: "Event", cell: (a) => html`<code>${a.event_type}</code> <span class="muted">${a.event_id}</span>` },
            { label: "Attempt", className: "num", cell: (a) => a.attempt },
            { label: "Status", cell: (a) => html`<span class=${a.status === "failed" ? "negative" : ""}>${a.status}${a.http_status ? ` (${a.http_status})` : ""}</span>` },
            { label: "Latency", className: "num", cell: (a) => `${a.latency_ms} ms` },
            { label: "Error", cell: (a) => a.error || "—" },
            { label: "Next retry", cell: (a) => when(a.next_retry_at) },
            { label: "", cell: (a) => e && html`<${Redeliver} endpoint=${e} eventId=${a.event_id} onDone=${() => setVersion((v) => v + 1)} />` },
          ]}
        />
      <//>
    </section>
    <section aria-labelledby="recent-events-title">
      <h2 id="recent-events-title">Recent events this endpoint subscribes to</h2>
      <${Loading} state=${events}>
        <${Table}
          caption="Recent events"
          rows=${(events.data?.data || []).filter((v) => subscribed(v.type))}
          empty="No recent events of the types this endpoint subscribes to."
          columns=${[
            { label: "Time", cell: (v) => when(v.created) },
            { label: "Type", cell: (v) => html`<code>${v.type}</code>` },
            { label: "Event", cell: (v) => html`<code>${v.id}</code>` },
            { label: "", cell: (v) => html`<${Redeliver} endpoint=${e} eventId=${v.id} onDone=${() => setVersion((n) => n + 1)} />` },
          ]}
        />
      <//>
    </section>
  </div>`;
}

function Endpoints({ caps }) {
  const list = useResource("/v1/webhooks", { limit: 100 });
  const [state, run] = useAction();
  const [secret, setSecret] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const events = form.elements.events.value.split(/[\s,]+/).filter(Boolean);
    const body = { url: form.elements.url.value.trim(), events };
    const description = form.elements.description.value.trim();
    if (description) body.description = description;
    const created = await run(() => call("POST", "/v1/webhooks", { body, idempotencyKey: newIdempotencyKey() }), (w) => `Endpoint ${w.id} created.`);
    setSecret(created?.secret || null);
    if (created) {
      form.reset();
      list.reload();
    }
  }
  return html`<div>
    <h1>Webhooks</h1>
    <${ReadOnlyNote} caps=${caps} need="webhooks" />
    <form class="panel" onSubmit=${submit} aria-labelledby="new-endpoint-title">
      <h2 id="new-endpoint-title">New endpoint</h2>
      <fieldset disabled=${!caps.webhooks || state.busy}>
        <div class="field"><label for="wh-url">URL</label><input id="wh-url" name="url" type="url" required maxlength="2048" /></div>
        <div class="field"><label for="wh-events">Events (comma-separated, * for all)</label><input id="wh-events" name="events" defaultValue="*" required /></div>
        <div class="field"><label for="wh-description">Description</label><input id="wh-description" name="description" maxlength="500" /></div>
        <button type="submit">Create endpoint</button>
      </fieldset>
      <${ActionStatus} state=${state} />
      <${Secret} label="Signing secret" value=${secret} />
    </form>
    <${Loading} state=${list}>
      <${Table}
        caption="Webhook endpoints"
        rows=${list.data?.data}
        columns=${[
          { label: "URL", cell: (w) => html`<a href=${`#/webhooks/${w.id}`}>${w.url}</a>` },
          { label: "Events", cell: (w) => w.events.join(", ") },
          { label: "Status", cell: (w) => html`<span class=${w.status === "disabled" ? "negative" : ""}>${w.status}</span>` },
          { label: "Created", cell: (w) => when(w.created) },
        ]}
      />
    <//>
  </div>`;
}

export function Webhooks({ id, caps }) {
  return id ? html`<${Endpoint} id=${id} caps=${caps} key=${id} />` : html`<${Endpoints} caps=${caps} />`;
}
