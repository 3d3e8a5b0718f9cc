// The browser's half of the tutorial: a Client Token from our own server, then Ringside directly.
const RINGSIDE = document.querySelector('meta[name="ringside-url"]').content;
const POLL_MS = 5000;
const usd = new Intl.NumberFormat("en-US", {
  style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 6,
});
let token = null; // {token, customer_id, expires_at, ...} as Ringside minted it

async function mint() {
  const response = await fetch("/api/mint-client-token", { method: "POST" });
  if (!response.ok) throw new Error(`minting a token failed (${response.status})`);
  token = await response.json();
}

// GET from Ringside with the token. A 401 (expired or revoked) gets one fresh token; a 403 would
// not be fixed by one, so it is shown, not retried.
async function ringside(path) {
  for (let attempt = 1; ; attempt++) {
    if (!token) await mint();
    const url = RINGSIDE + path.replace(":id", token.customer_id);
    const response = await fetch(url, { headers: { Authorization: `Client ${token.token}` } });
    if (response.status === 401 && attempt === 1) {
      token = null;
      continue;
    }
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
    return response.json();
  }
}

function drawChart(days) {
  const chart = document.getElementById("chart");
  const max = Math.max(...days.map((day) => day.total_billable_usd), 0);
  chart.replaceChildren(...days.map((day) => {
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.height = `${max > 0 ? (day.total_billable_usd / max) * 100 : 0}%`;
    bar.title = `${day.date}: ${usd.format(day.total_billable_usd)}`;
    const label = document.createElement("span");
    label.textContent = day.date.slice(5);
    bar.append(label);
    return bar;
  }));
}

function showStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function refresh() {
  try {
    const customer = await ringside("/v1/customers/:id");
    const usage = await ringside("/v1/usage?group_by=day");
    document.getElementById("spend").textContent = usd.format(customer.spend_usd_mtd);
    document.getElementById("requests").textContent = customer.request_count_mtd;
    document.getElementById("budget").textContent = customer.budget_usd == null ? "none" : usd.format(customer.budget_usd);
    drawChart(usage.data);
    showStatus(`Updated ${new Date().toLocaleTimeString()}`, false);
  } catch (error) {
    // A fetch refused by CORS (a page on an origin the token is not for) lands here too.
    showStatus(`Cannot read your usage: ${error.message}`, true);
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, POLL_MS);
}

document.getElementById("demo-call").addEventListener("click", async () => {
  const response = await fetch("/api/demo-call", { method: "POST" });
  await refresh();
  if (!response.ok) showStatus(`The metered call failed (${response.status})`, true);
});

poll();
