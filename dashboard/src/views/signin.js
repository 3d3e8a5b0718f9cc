// Sign in with an API key: checked against the API, kept in sessionStorage for this tab only.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { capabilities, modeOf, remember } from "../api.js";


export function SignIn({ state, onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const has = Object.keys(state.keys);

  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const key = form.elements.key.value.trim();
    const mode = modeOf(key);
    setError(null);
    if (!mode) {
      setError("That is not a Ringside API key: it starts with sk_live_ or sk_test_.");
      return;
    }
    setBusy(true);
    try {
      const caps = await capabilities(key);
      form.reset();
      remember(mode, key, caps);
      onSignedIn();
    } catch (failure) {
      setError(
        failure.status === 401
          ? "Ringside refused this key (invalid_api_key): it is wrong, revoked, or from another installation."
          : `Could not sign in: ${failure.message}`,
      );
    } finally {
      setBusy(false);
    }
  }

  return html`<main class="sign-in" id="main">
    <h1>Ringside dashboard</h1>
    <p>Sign in with an API key. It stays in this browser tab only and is sent to Ringside as a header.</p>
    ${has.length > 0 &&
    html`<p class="muted">Signed in with a ${has.join(" and a ")} key. Add the other mode's key to switch between live and test data.</p>`}
    <form onSubmit=${submit} aria-describedby="sign-in-error">
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" required maxlength="200" placeholder="sk_live_… or sk_test_…" />
      <button type="submit" disabled=${busy}>${busy ? "Checking…" : "Sign in"}</button>
      ${has.length > 0 && html`<a href="#/overview">Back</a>`}
    </form>
    <p id="sign-in-error" class="error" role="alert" hidden=${!error}>${error}</p>
  </main>`;
}

