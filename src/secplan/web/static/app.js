// Progressive enhancement only: every link and form works without this file.
// Clicking a heading's permalink also copies the full URL to the clipboard.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a.permalink");
  if (!link || !navigator.clipboard) return;
  var url = new URL(link.getAttribute("href"), window.location.href).toString();
  navigator.clipboard.writeText(url).then(function () {
    link.classList.add("copied");
    setTimeout(function () { link.classList.remove("copied"); }, 1500);
  }, function () {});
});
