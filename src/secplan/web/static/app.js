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

// After a review form was sent the page opens at the thread (#thread-ID): move the keyboard
// focus there too, so the next Tab continues from the new thread, not from the page top.
function focusTarget() {
  var id = decodeURIComponent(window.location.hash.slice(1));
  var target = id && document.getElementById(id);
  if (target && target.classList.contains("thread")) target.focus();
}
document.addEventListener("DOMContentLoaded", focusTarget);
window.addEventListener("hashchange", focusTarget);

// "Copy" buttons beside a block (the proposed work breakdown) copy its text.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("button.copy[data-copy]");
  if (!button) return;
  var block = document.getElementById(button.getAttribute("data-copy"));
  if (!block || !navigator.clipboard) return;
  navigator.clipboard.writeText(block.textContent).then(function () {
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = "Copy"; }, 1500);
  }, function () {});
});
