// Slots (/v1/slots): an account's model aliases, with fallbacks in order.
import { html } from "htm/preact";

import { call, newIdempotencyKey } from "../api.js";
import { when } from "../format.js";
import { ActionStatus, ConfirmButton, Loading, ReadOnlyNote, Table, useAction, useResource } from "../ui.js";

export function Slots({ caps }) {
  const list = useResource("/v1/slots", { limit: 100 });
  const [state, run] = useAction();
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const models = form.elements.models.value.split(/[\n,]/).map((m) => m.trim()).filter(Boolean);
    const body = { name: form.elements.name.value.trim(), models };
    if (await run(() => call("POST", "/v1/slots", { body, idempotencyKey: newIdempotencyKey() }), (s) => `Slot ${s.name} created.`)) {
      form.reset();
      list.reload();
    }
  }
  return html`<div>
    <h1>Slots</h1>
    <${ReadOnlyNote} caps=${caps} />
    <form class="panel" onSubmit=${submit} aria-labelledby="new-slot-title">
      <h2 id="new-slot-title">New slot</h2>
      <fieldset disabled=${!caps.write || state.busy}>
        <div class="field"><label for="slot-name">Name</label><input id="slot-name" name="name" required maxlength="256" /></div>
        <div class="field"><label for="slot-models">Models, first choice first (one per line)</label>
          <textarea id="slot-models" name="models" rows="3" required placeholder="fc:openai/gpt-4o-mini"></textarea></div>
        <button type="submit">Create slot</button>
      </fieldset>
      <${ActionStatus} state=${state} />
    </form>
    <${Loading} state=${list}>
      <${Table}
        caption="Slots"
        rows=${list.data?.data}
        columns=${[
          { label: "Name", cell: (s) => html`<code>slot:${s.name}</code>` },
          { label: "Models", cell: (s) => s.models.join(" → ") },
          { label: "Created", cell: (s) => when(s.created) },
          {
            label: "",
            cell: (s) =>
              caps.write &&
              html`<${ConfirmButton} label="Delete" confirmLabel="Confirm delete" name=${s.name}
                action=${() => call("DELETE", `/v1/slots/${s.id}`)} onDone=${list.reload} />`,
          },
        ]}
      />
    <//>
  </div>`;
}
