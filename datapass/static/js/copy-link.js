// « Copier le lien »: progressive enhancement of a read-only field holding a link.
//
// Without JavaScript the button stays hidden (inside a hidden .datapass-js-only element) and
// the link can be selected in its field. <button data-datapass-copy="FIELD_ID"> copies the
// value of #FIELD_ID; the message goes to [data-datapass-copy-status="FIELD_ID"] (an
// aria-live region).

function announce(id, message) {
  const status = document.querySelector(`[data-datapass-copy-status="${id}"]`);
  if (status) {
    status.textContent = message;
  }
}

async function copy(field) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(field.value);
    return;
  }
  // Plain http (a local installation): the older, synchronous way.
  field.focus();
  field.select();
  if (!document.execCommand("copy")) {
    throw new Error("copy refused");
  }
}

for (const button of document.querySelectorAll("[data-datapass-copy]")) {
  const id = button.dataset.datapassCopy;
  const field = document.getElementById(id);
  if (!field) {
    continue;
  }
  const wrapper = button.closest(".datapass-js-only");
  if (wrapper) {
    wrapper.hidden = false;
  }
  button.addEventListener("click", async () => {
    try {
      await copy(field);
      announce(id, "Lien copié dans le presse-papiers.");
    } catch {
      field.focus();
      field.select();
      announce(id, "La copie n’a pas fonctionné\u00a0: le lien est sélectionné, copiez-le avec Ctrl+C.");
    }
  });
}
