// The static site's search page: Pagefind's own UI, started from this file (no inline script).
// Result URLs are site paths; the site may live under a sub-path (GitLab project pages), so they
// are resolved against the folder of this page, which is the site's root. The index comes in
// shards (pagefind/shards.json lists them); the UI searches the first and merges the others.
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("search");
  if (!element || typeof PagefindUI === "undefined") return;
  var root = new URL(".", window.location.href).pathname;
  fetch(root + "pagefind/shards.json")
    .then(function (response) {
      return response.ok ? response.json() : { bundles: [] };
    })
    .catch(function () {
      return { bundles: [] };
    })
    .then(function (state) {
      var bundles = (state.bundles || []).map(function (b) {
        return root + b;
      });
      var options = {
        element: "#search",
        showSubResults: true,
        showImages: false,
        resetStyles: false,
        baseUrl: root,
      };
      if (bundles.length) {
        options.bundlePath = bundles[0];
        options.mergeIndex = bundles.slice(1).map(function (b) {
          return { bundlePath: b };
        });
      }
      var ui = new PagefindUI(options);
      var query = new URLSearchParams(window.location.search).get("q");
      if (query) ui.triggerSearch(query);
    });
});
