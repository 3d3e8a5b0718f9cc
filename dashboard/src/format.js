// Money arrives as JSON numbers exact to nine decimals (nano-USD); shown in cents once large enough.

export function usd(value) {
  if (value === null || value === undefined) return "—";
  const number = Number(value);
  const sign = number < 0 ? "−" : "";
  const size = Math.abs(number);
  if (size === 0) return "$0.00";
  if (size < 0.01) return `${sign}$${size.toFixed(6).replace(/0+$/, "")}`;
  return `${sign}$${size.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function count(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
}

export function when(seconds) {
  if (!seconds) return "—";
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function day(date) {
  return date.toISOString().slice(0, 10);
}

// The periods the overview offers; `since`/`until` as API.md's YYYY-MM-DD (UTC days).
export function period(name) {
  const now = new Date();
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (name === "7d" || name === "30d") {
    const days = name === "7d" ? 6 : 29;
    return { since: day(new Date(today.getTime() - days * 86400000)), until: day(today) };
  }
  return { since: day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))), until: day(today) };
}

export function marginPct(billable, cost) {
  if (!billable) return null;
  return ((billable - cost) / billable) * 100;
}
