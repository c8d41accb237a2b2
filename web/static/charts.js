// Charts from the JSON the page carries in <script type="application/json"> (no inline script: strict CSP).
(function () {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const volume = document.getElementById("volume-chart");
  if (volume) {
    new Chart(volume, {
      data: {
        labels: data.days,
        datasets: [
          { type: "bar", label: "opened", data: data.opened, backgroundColor: "#5865f2" },
          { type: "bar", label: "closed", data: data.closed, backgroundColor: "#8c959f" },
          { type: "line", label: "open at end of day", data: data.backlog, borderColor: "#e67e22", pointRadius: 0 },
        ],
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    });
  }
  const routes = document.getElementById("routes-chart");
  if (routes) {
    const names = { answer: "saved answer", llm: "model", fallback: "fallback", staff: "staff hand-off" };
    new Chart(routes, {
      type: "doughnut",
      data: {
        labels: Object.keys(data.routes).map((k) => names[k] || k),
        datasets: [{ data: Object.values(data.routes), backgroundColor: ["#3ba55c", "#5865f2", "#faa61a", "#ed4245"] }],
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false },
    });
  }
  document.body.dataset.chartsReady = "1"; // tests wait on this flag (eval is blocked by the CSP)
})();
