import { $ } from './dom.js';
import { nameProblem } from './names.js';

/**
 * The "another server" dialog: asks for a server name, checks it against the API's rule
 * and the user's active servers before anything is sent, and says what is wrong next to
 * the field. Resolves to the name, or null when cancelled.
 */
export function askServerName(
  appTitle: string,
  suggestion: string,
  taken: readonly string[],
): Promise<string | null> {
  const dialog = $<HTMLDialogElement>('#name-dialog');
  const form = $<HTMLFormElement>('#name-form', dialog);
  const input = $<HTMLInputElement>('#name-input', dialog);
  const error = $('#name-error', dialog);
  $('#name-title', dialog).textContent = `Start another ${appTitle}`;
  input.value = suggestion;
  error.hidden = true;
  input.removeAttribute('aria-invalid');

  return new Promise((resolve) => {
    const onSubmit = (ev: SubmitEvent) => {
      ev.preventDefault();
      const name = input.value.trim();
      const problem = nameProblem(name, taken);
      if (problem) {
        error.textContent = problem;
        error.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      finish(name);
    };
    const onCancel = () => finish(null);
    const finish = (result: string | null) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onCancel);
      $('#name-cancel', dialog).removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      resolve(result);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onCancel);
    $('#name-cancel', dialog).addEventListener('click', onCancel);
    dialog.showModal();
    input.select();
  });
}
