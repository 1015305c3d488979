// What the forms of «Сценарии и меню» share: a line saying what was saved and one with the server's refusal.

/** The message and status lines of a form: `say.ok(text)`, `say.fail(err)`, `say.clear()`. */
export function feedback(box) {
  const ok = box.querySelector('[role=status]');
  const alert = box.querySelector('[role=alert]');
  return {
    ok(text) {
      alert.textContent = '';
      ok.textContent = text;
    },
    fail(err) {
      ok.textContent = '';
      alert.textContent = err.message;
    },
    clear() {
      ok.textContent = '';
      alert.textContent = '';
    },
  };
}

export const messages =
  '<p class="studio-saved" role="status"></p><p class="error studio-error" role="alert"></p>';
