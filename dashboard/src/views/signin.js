// Sign in with an API key: checked against the API, kept in sessionStorage for this tab only.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { capabilities, isOperatorKey, modeOf, remember } from "../api.js";


export function SignIn({ state, refused, onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const has = Object.keys(state.keys);
  // one alert element, always there: what went wrong with this form, else why the tab signed out
  const message =
    error || (refused ? `Ringside stopped accepting the ${refused} key this tab held (revoked?). Sign in again.` : null);

  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const key = form.elements.key.value.trim();
    const mode = modeOf(key) || "operator";
    setError(null);
    setBusy(true);
    try {
      const caps = await (mode === "operator" ? isOperatorKey(key) : capabilities(key));
      form.reset();
      remember(mode, key, caps);
      onSignedIn();
    } catch (failure) {
      setError(
        failure.status !== 401
          ? `Could not sign in: ${failure.message}`
          : mode === "operator"
            ? "Ringside refused this key: it is neither an API key (sk_live_…, sk_test_…) nor the operator's admin key."
            : "Ringside refused this key (invalid_api_key): it is wrong, revoked, or from another installation.",
      );
    } finally {
      setBusy(false);
    }
  }

  return html`<main class="sign-in" id="main">
    <h1>Ringside dashboard</h1>
    <p>Sign in with an API key (or, to manage accounts, the operator's admin key). It stays in this browser tab only and is sent to Ringside as a header.</p>
    <p class="muted" hidden=${has.length === 0}>
      Signed in with a ${has.join(" and a ")} key. Add another mode's key to switch between live and test data.
    </p>
    <form onSubmit=${submit} aria-describedby="sign-in-error">
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" spellcheck=${false} required maxlength="200" placeholder="sk_live_…, sk_test_… or the admin key" />
      <button type="submit" disabled=${busy}>${busy ? "Checking…" : "Sign in"}</button>
      <a href="#/overview" hidden=${has.length === 0}>Back</a>
    </form>
    <p id="sign-in-error" class="error" role="alert" hidden=${!message}>${message}</p>
  </main>`;
}

