// Keeps the live part of the page current without a reload, and asks before a cancel.
"use strict";

(function () {
  const live = document.getElementById("live");
  if (live) {
    const seconds = Number(live.dataset.refreshSeconds) || 5;
    let last = null; // the last fragment received, as the server sent it
    const refresh = async () => {
      if (document.hidden) return;
      try {
        const response = await fetch("/live", { credentials: "same-origin", cache: "no-store" });
        if (response.redirected || !response.ok) return; // signed out, or the server is away
        const html = await response.text();
        if (html !== last) {
          live.innerHTML = html;
          last = html;
        }
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
