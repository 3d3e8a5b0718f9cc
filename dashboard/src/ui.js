// Small pieces every view uses: loading a resource, showing an error, a table, a form status.
import { html } from "htm/preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { get } from "./api.js";

// Loads `path` (with `query`) and reloads when either changes, `version` moves or `reload()` is called.
export function useResource(path, query, version = 0) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const key = JSON.stringify([path, query, tick, version]);
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    get(path, query).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [key]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function Failure({ error }) {
  if (!error) return null;
  const code = error.code ? ` (${error.code})` : "";
  return html`<p class="error" role="alert">${error.message}${code}</p>`;
}

export function Loading({ state, children }) {
  if (state.error) return html`<${Failure} error=${state.error} />`;
  if (state.loading && !state.data) return html`<p class="muted" aria-live="polite">Loading…</p>`;
  return children;
}

// columns: [{label, cell: row => vnode, className?}]
export function Table({ caption, columns, rows, empty = "Nothing yet." }) {
  if (!rows || rows.length === 0) return html`<p class="muted">${empty}</p>`;
  // a focusable region, so a table wider than the screen scrolls from the keyboard
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${caption} (table)`}>
    <table>
      <caption class="visually-hidden">${caption}</caption>
      <thead>
        <tr>
          ${columns.map(
            (c) => html`<th scope="col" class=${c.className || ""}>${c.label || html`<span class="visually-hidden">Actions</span>`}</th>`,
          )}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) => html`<tr>${columns.map((c) => html`<td class=${c.className || ""}>${c.cell(row)}</td>`)}</tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

// A form's submit: runs `action`, shows its error or `done`, disables the button meanwhile.
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const run = useCallback(async (action, done) => {
    setState({ busy: true, error: null, done: null });
    try {
      const result = await action();
      setState({ busy: false, error: null, done: typeof done === "function" ? done(result) : done });
      return result;
    } catch (error) {
      setState({ busy: false, error, done: null });
      return null;
    }
  }, []);
  return [state, run];
}

export function ActionStatus({ state }) {
  if (state.error) return html`<${Failure} error=${state.error} />`;
  if (state.done) return html`<p class="ok" role="status">${state.done}</p>`;
  return null;
}

export function ReadOnlyNote({ caps, need = "write" }) {
  if (caps[need]) return null;
  return html`<p class="note" role="note">This key is read-only here (no <code>api:${need}</code> scope): changes are disabled.</p>`;
}

export function Secret({ label, value }) {
  if (!value) return null;
  return html`<div class="secret" role="status">
    <p><strong>${label}</strong> — shown once; copy it now.</p>
    <code class="secret-value">${value}</code>
  </div>`;
}

export function Stat({ label, value, tone, id }) {
  return html`<div class=${`stat ${tone || ""}`}>
    <span class="stat-label">${label}</span>
    <span class="stat-value" id=${id}>${value}</span>
  </div>`;
}

// Stripe-style cursors, kept as a stack: "Older" pushes the last id, "Newer" pops back.
export function usePages() {
  const [cursors, setCursors] = useState([]);
  const after = cursors[cursors.length - 1];
  return {
    after,
    older: (data) => setCursors([...cursors, data[data.length - 1].id]),
    newer: () => setCursors(cursors.slice(0, -1)),
    reset: () => setCursors([]),
    first: cursors.length === 0,
  };
}

export function Pager({ pages, list }) {
  const data = list?.data || [];
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" disabled=${pages.first} onClick=${pages.newer}>← Newer</button>
    <button type="button" disabled=${!list?.has_more || data.length === 0} onClick=${() => pages.older(data)}>Older →</button>
  </nav>`;
}

// A destructive action asks once more, in place (no modal dialog to trap the keyboard).
export function ConfirmButton({ label, confirmLabel, name, action, onDone }) {
  const [armed, setArmed] = useState(false);
  const [state, run] = useAction();
  const confirmButton = useRef(null);
  useEffect(() => armed && confirmButton.current?.focus(), [armed]); // the keyboard stays on the action
  if (!armed) {
    return html`<button type="button" class="danger" onClick=${() => setArmed(true)} aria-label=${`${label} ${name}`}>${label}</button>`;
  }
  const confirm = () => run(action, "Done.").then(onDone);
  return html`<span class="confirm">
    <button type="button" class="danger" ref=${confirmButton} disabled=${state.busy} onClick=${confirm}>${confirmLabel}</button>
    <button type="button" onClick=${() => setArmed(false)}>Cancel</button>
    <${ActionStatus} state=${state} />
  </span>`;
}
