// DataPass: small progressive enhancements on top of the DSFR (no inline scripts: strict CSP).

// Move the focus to the first element that asks for it (the form error summary), so that
// keyboard and screen reader users land on the list of errors after a failed submission.
const target = document.querySelector("[data-datapass-focus]");
if (target) {
  target.focus();
}
