import { $, h } from './dom.js';
import type { App } from './types.js';

/**
 * The resources dialog of an app (memory and cores on this host, or a Slurm job's
 * resources): one number field per choice the admin offers, within its limits (the service checks them again). Resolves to the
 * options, or null when cancelled. Apps without choices skip it.
 */
export function askOptions(app: App): Promise<Record<string, number> | null> {
  if (app.options.length === 0) return Promise.resolve({});
  const dialog = $<HTMLDialogElement>('#options-dialog');
  const form = $<HTMLFormElement>('#options-form', dialog);
  const fields = $('#options-fields', dialog);
  $('#options-title', dialog).textContent =
    `Start ${app.title}${app.runs_on === 'slurm' ? ' on the cluster' : ''}`;
  fields.replaceChildren(
    ...app.options.map((o) =>
      h(
        'label',
        {},
        `${o.label} (${o.min}–${o.max}) `,
        h('input', {
          type: 'number',
          name: o.name,
          min: String(o.min),
          max: String(o.max),
          step: '1',
          value: String(o.default),
          required: 'required',
        }),
      ),
    ),
  );
  return new Promise((resolve) => {
    const onSubmit = (ev: SubmitEvent) => {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      const chosen: Record<string, number> = {};
      for (const o of app.options)
        chosen[o.name] = Number($<HTMLInputElement>(`input[name="${o.name}"]`, form).value);
      finish(chosen);
    };
    const onCancel = () => finish(null);
    const finish = (result: Record<string, number> | null) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onCancel);
      $('#options-cancel', dialog).removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      resolve(result);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onCancel);
    $('#options-cancel', dialog).addEventListener('click', onCancel);
    dialog.showModal();
  });
}
