// The operator dashboard: a hash-routed single page on Ringside's public API.
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { KEY_REFUSED, routeExists, session, signOut, switchMode } from "./api.js";
import { Account } from "./views/account.js";
import { Accounts } from "./views/accounts.js";
import { Customer } from "./views/customer.js";
import { Customers } from "./views/customers.js";
import { Events } from "./views/events.js";
import { Keys } from "./views/keys.js";
import { Overview } from "./views/overview.js";
import { Requests } from "./views/requests.js";
import { SignIn } from "./views/signin.js";
import { Slots } from "./views/slots.js";
import { Stripe } from "./views/stripe.js";
import { Tiers } from "./views/tiers.js";
import { VectorStore, VectorStores } from "./views/vector_stores.js";
import { Webhooks } from "./views/webhooks.js";

const PAGES = [
  { path: "overview", label: "Overview", view: Overview },
  { path: "customers", label: "Customers", view: Customers },
  { path: "requests", label: "Requests", view: Requests, optional: "/v1/requests" },
  { path: "keys", label: "API keys", view: Keys, need: "admin" },
  { path: "tiers", label: "Tiers", view: Tiers },
  { path: "slots", label: "Slots", view: Slots },
  { path: "webhooks", label: "Webhooks", view: Webhooks, need: "webhooks" },
  { path: "events", label: "Events", view: Events },
  { path: "stripe", label: "Stripe", view: Stripe, need: "admin" },
  { path: "vector-stores", label: "Vector stores", view: VectorStores, optional: "/v1/vector_stores" },
  { path: "account", label: "Account", view: Account, need: "admin" },
  { path: "accounts", label: "Accounts", view: Accounts, need: "operator" },
];
const MODES = { live: "Live", test: "Test", operator: "Operator" };

function currentRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { page: parts[0] || "overview", id: parts[1] || null };
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

// Which optional routes this edge serves (each probed once per sign-in); null until they answer,
// so the sections appear once, all together, and never move under a click.
function useOptionalRoutes(mode) {
  const [present, setPresent] = useState(null);
  useEffect(() => {
    if (!mode || mode === "operator") return;
    setPresent(null);
    const optional = PAGES.filter((p) => p.optional);
    Promise.all(optional.map((p) => routeExists(p.optional))).then((answers) =>
      setPresent(Object.fromEntries(optional.map((p, i) => [p.optional, answers[i]]))),
    );
  }, [mode]);
  return present;
}

function ModeSwitch({ state, onChange }) {
  const modes = Object.keys(MODES).filter((m) => state.keys[m]);
  if (modes.length < 2) {
    const other = { live: "a test key", test: "a live key", operator: "an API key" }[state.mode];
    return html`<a class="mode-add" href="#/sign-in">Add ${other}</a>`;
  }
  return html`<div class="mode-switch" role="group" aria-label="Mode">
    ${modes.map(
      (m) => html`<button
        type="button"
        class=${m === state.mode ? "active" : ""}
        aria-pressed=${m === state.mode}
        onClick=${() => {
          switchMode(m);
          onChange();
        }}
      >
        ${MODES[m]}
      </button>`,
    )}
  </div>`;
}

function useRefusedKeys(refresh) {
  const [refused, setRefused] = useState(null);
  useEffect(() => {
    const dropped = (event) => {
      setRefused(event.detail);
      location.hash = "#/sign-in";
      refresh();
    };
    addEventListener(KEY_REFUSED, dropped);
    return () => removeEventListener(KEY_REFUSED, dropped);
  }, []);
  return [refused, setRefused];
}

function App() {
  const route = useRoute();
  const [, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);
  const [refused, setRefused] = useRefusedKeys(refresh);
  const state = session();
  const present = useOptionalRoutes(state.mode);
  if (!state.mode || route.page === "sign-in") {
    return html`<${SignIn} state=${state} refused=${refused} onSignedIn=${() => {
      setRefused(null);
      location.hash = "#/overview";
      refresh();
    }} />`;
  }
  if (present === null && state.mode !== "operator") {
    return html`<p class="loading" role="status">Loading…</p>`;
  }
  const caps = state.caps[state.mode] || {};
  // the admin key sees only accounts; an account's keys see everything else their scopes allow
  const operator = state.mode === "operator";
  const visible = PAGES.filter(
    (p) => (p.need === "operator") === operator && (!p.need || caps[p.need]) && (!p.optional || (present || {})[p.optional]),
  );
  const page =
    visible.find((p) => p.path === route.page) ||
    PAGES.find((p) => p.path === route.page && (p.need === "operator") === operator) ||
    visible[0];
  const pageOfOne = { customers: Customer, "vector-stores": VectorStore }; // an object's own page
  const View = (route.id && page.path === route.page && pageOfOne[route.page]) || page.view;
  return html`<div class=${`shell mode-${state.mode}`} key=${state.mode}>
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">Ringside</span>
      <span class=${`badge ${state.mode}`} id="mode-badge">${state.mode === "test" ? "Test data" : MODES[state.mode]}</span>
      <${ModeSwitch} state=${state} onChange=${refresh} />
      <button type="button" class="link" onClick=${() => {
        signOut();
        location.hash = "#/sign-in";
        refresh();
      }}>Sign out</button>
    </header>
    <nav class="side" aria-label="Sections">
      <ul>
        ${visible.map(
          (p) => html`<li><a href=${`#/${p.path}`} aria-current=${p.path === page.path ? "page" : undefined}>${p.label}</a></li>`,
        )}
      </ul>
    </nav>
    <main id="main" tabindex="-1">
      <${View} id=${route.id} caps=${caps} mode=${state.mode} present=${present || {}} />
    </main>
  </div>`;
}

const root = document.getElementById("app");
root.textContent = ""; // the boot message, shown until this script runs
render(html`<${App} />`, root);
