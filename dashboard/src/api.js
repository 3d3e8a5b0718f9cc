// The only way the page talks to Ringside: its public API, the key in an Authorization header.
// Keys live in sessionStorage (gone when the tab closes), never in a URL, a cookie or a log.

const STORE = "ringside.dashboard";

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) || "{}");
  } catch {
    return {};
  }
}

function save(state) {
  sessionStorage.setItem(STORE, JSON.stringify(state));
}

export function session() {
  const state = load();
  return { keys: state.keys || {}, mode: state.mode || null, caps: state.caps || {} };
}

export function modeOf(key) {
  if (key.startsWith("sk_live_")) return "live";
  if (key.startsWith("sk_test_")) return "test";
  return null;
}

export function remember(mode, key, caps) {
  const state = session();
  state.keys[mode] = key;
  state.caps[mode] = caps;
  state.mode = mode;
  save(state);
}

export function switchMode(mode) {
  const state = session();
  if (state.keys[mode]) save({ ...state, mode });
}

export function signOut() {
  sessionStorage.removeItem(STORE);
}

// A stored key Ringside no longer accepts (revoked, perhaps from this very page) is dropped, and
// the page returns to the sign-in form saying so, instead of showing 401s everywhere.
export const KEY_REFUSED = "ringside-key-refused";

function forget(mode) {
  const state = session();
  delete state.keys[mode];
  delete state.caps[mode];
  state.mode = Object.keys(state.keys)[0] || null;
  save(state);
  dispatchEvent(new CustomEvent(KEY_REFUSED, { detail: mode }));
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || null;
    this.param = error?.param || null;
  }
}

export async function call(method, path, { body, key, idempotencyKey, query } = {}) {
  const state = session();
  const secret = key || state.keys[state.mode];
  const headers = { Authorization: `Bearer ${secret}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (response.status === 401 && !key && state.mode) forget(state.mode);
  if (!response.ok) throw new ApiError(response.status, payload?.error);
  return payload;
}

export const get = (path, query) => call("GET", path, { query });

// The operator's admin key (RINGSIDE_ADMIN_KEY) manages accounts and nothing else.
export async function isOperatorKey(key) {
  await call("GET", "/v1/accounts", { key, query: { limit: 1 } }); // 401 for a wrong key
  return { operator: true };
}

// What a key may do, found through the API itself: a read, then probes that change nothing.
export async function capabilities(key) {
  await call("GET", "/v1/customers", { key, query: { limit: 1 } }); // 401 for a wrong key
  const allowed = async (method, path, body) => {
    try {
      await call(method, path, { key, body });
      return true;
    } catch (error) {
      if (error.status === 401 || error.status === 403) return false;
      return true; // 404 for the probe's made-up id: the scope itself was accepted
    }
  };
  const [admin, webhooks, write] = await Promise.all([
    allowed("GET", "/v1/api_keys"),
    allowed("GET", "/v1/webhooks"),
    allowed("PATCH", "/v1/customers/cus_dashboard_scope_probe", {}),
  ]);
  return { read: true, write, webhooks, admin };
}

// A route another release may not serve yet (/v1/requests, /v1/vector_stores): 404 hides its view.
export async function routeExists(path) {
  try {
    await call("GET", path, { query: { limit: 1 } });
    return true;
  } catch (error) {
    return !(error.status === 404 && error.code === "not_found");
  }
}

export function newIdempotencyKey() {
  return `dash_${crypto.randomUUID()}`;
}
