// API keys of this mode (scope api:admin): create (the secret shown once), revoke.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { call, newIdempotencyKey } from "../api.js";
import { when } from "../format.js";
import { ActionStatus, ConfirmButton, Loading, ReadOnlyNote, Secret, Table, useAction, useResource } from "../ui.js";

const SCOPES = ["api:read", "api:write", "api:webhooks", "api:admin"];

export function Keys({ caps, mode }) {
  const list = useResource("/v1/api_keys", { limit: 100 });
  const [state, run] = useAction();
  const [secret, setSecret] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const scopes = SCOPES.filter((s) => form.elements[s].checked);
    const body = { name: form.elements.name.value.trim(), scopes, mode };
    const created = await run(
      () => call("POST", "/v1/api_keys", { body, idempotencyKey: newIdempotencyKey() }),
      (k) => `Key ${k.id} created.`,
    );
    setSecret(created?.secret || null);
    if (created) {
      form.reset();
      list.reload();
    }
  }
  return html`<div>
    <h1>API keys</h1>
    <${ReadOnlyNote} caps=${caps} need="admin" />
    <form class="panel" onSubmit=${submit} aria-labelledby="new-key-title">
      <h2 id="new-key-title">New ${mode} key</h2>
      <fieldset disabled=${!caps.admin || state.busy}>
        <div class="field"><label for="key-name">Name</label><input id="key-name" name="name" required maxlength="256" /></div>
        <fieldset class="scopes">
          <legend>Scopes</legend>
          ${SCOPES.map((s) => html`<label class="check"><input type="checkbox" name=${s} defaultChecked=${s === "api:read"} /> ${s}</label>`)}
        </fieldset>
        <button type="submit">Create key</button>
      </fieldset>
      <${ActionStatus} state=${state} />
      <${Secret} label="Secret key" value=${secret} />
    </form>
    <${Loading} state=${list}>
      <${Table}
        caption="API keys"
        rows=${list.data?.data}
        columns=${[
          { label: "Name", cell: (k) => k.name || "—" },
          { label: "Key", cell: (k) => html`<code>${k.redacted}</code>` },
          { label: "Scopes", cell: (k) => k.scopes.join(", ") },
          { label: "Created", cell: (k) => when(k.created) },
          { label: "", cell: (k) => caps.admin &&
            html`<${ConfirmButton}
              label="Revoke"
              confirmLabel="Confirm revoke"
              name=${k.name || k.id}
              action=${() => call("DELETE", `/v1/api_keys/${k.id}`)}
              onDone=${list.reload}
            />` },
        ]}
      />
    <//>
  </div>`;
}
