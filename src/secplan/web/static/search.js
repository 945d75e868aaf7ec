// The static site's search page: Pagefind's own UI, started from this file (no inline script).
// Result URLs are site paths; the site may live under a sub-path (GitLab project pages), so they
// are resolved against the folder of this page, which is the site's root.
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("search");
  if (!element || typeof PagefindUI === "undefined") return;
  var ui = new PagefindUI({
    element: "#search",
    showSubResults: true,
    showImages: false,
    resetStyles: false,
    baseUrl: new URL(".", window.location.href).pathname,
  });
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) ui.triggerSearch(query);
});
