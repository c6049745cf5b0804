// The header's menus (<details>): close when a click lands outside or Escape is pressed.
// Without JavaScript they still open and close by their own summary.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll(".topbar details[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll(".topbar details[open]")) menu.removeAttribute("open");
});
