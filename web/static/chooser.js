// Keeps the live part of the page current without a reload, and asks before a cancel.
"use strict";

(function () {
  const live = document.getElementById("live");
  if (live) {
    const seconds = Number(live.dataset.refreshSeconds) || 5;
    // the version of the part shown: the page came with it, each fragment says its own
    let shown = live.dataset.version;
    const refresh = async () => {
      if (document.hidden) return;
      try {
        const response = await fetch("/live", { credentials: "same-origin", cache: "no-store" });
        if (response.redirected || !response.ok) return; // signed out, or the server is away
        const version = response.headers.get("X-Live-Version");
        if (version === shown) return; // unchanged: what a thumb is on stays where it is
        const html = await response.text();
        const open = [...live.querySelectorAll("details[open]")].map(
          (details) => details.closest("[data-workflow-id]")?.dataset.workflowId
        );
        live.innerHTML = html;
        for (const id of open) {
          const row = id && live.querySelector(`[data-workflow-id="${CSS.escape(id)}"] details`);
          if (row) row.open = true; // a "More…" opened stays open
        }
        shown = version;
      } catch (error) {
        // the server restarts or the phone lost the network: try again at the next tick
      }
    };
    setInterval(refresh, seconds * 1000);
    document.addEventListener("visibilitychange", refresh);
  }

  document.addEventListener("submit", (event) => {
    const question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
