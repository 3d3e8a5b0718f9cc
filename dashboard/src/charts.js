// Chart.js, only the parts the dashboard draws (tree-shaken by the build).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);
Chart.defaults.animation = false; // first paint at once; nothing moves under the reader
Chart.defaults.font.family = "system-ui, sans-serif";

const COLORS = ["#3558d6", "#d97706", "#15803d", "#b91c1c", "#7c3aed", "#0e7490"];

// `series`: [{label, values, type?}] over `labels`; `summary` is what a screen reader hears.
export function TimeChart({ labels, series, summary, money = true }) {
  const canvas = useRef(null);
  useEffect(() => {
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.values,
          type: s.type || "bar",
          backgroundColor: COLORS[i % COLORS.length],
          borderColor: COLORS[i % COLORS.length],
        })),
      },
      options: {
        maintainAspectRatio: false,
        responsive: true,
        scales: {
          y: {
            beginAtZero: true,
            ticks: { callback: (value) => (money ? `$${Number(value).toPrecision(2)}` : value) },
          },
        },
        plugins: { legend: { position: "bottom" } },
      },
    });
    return () => chart.destroy();
  }, [JSON.stringify([labels, series])]);
  return html`<div class="chart"><canvas ref=${canvas} role="img" aria-label=${summary}></canvas></div>`;
}
