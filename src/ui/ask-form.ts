import { $, h } from './dom.js';
import { fieldInput, fieldValue, optionField, presetValue } from './form-fields.js';
import type { App, FormField, FormValue } from './types.js';

/** What a start sends: the resource choices and the launch form's values. */
export interface StartChoice {
  options: Record<string, FormValue>;
  form: Record<string, FormValue>;
}

const SLURM_HELP =
  'This app runs as a Slurm job. Choose its resources within the limits your admin set; it ends when its hours are used up.';
const HOST_HELP = 'Choose how it starts. The values are checked again when it starts.';

/**
 * The start dialog of an app with resource choices or a launch form: one input per field,
 * filled with the link's presets, else the user's values from their last start, else the
 * defaults. A preset this user may not choose is left out and named in a note, never sent.
 * Resolves to the choice, or null when cancelled; apps with neither skip it.
 */
export function askForm(
  app: App,
  presets: Record<string, string> = {},
): Promise<StartChoice | null> {
  const options = app.options.map(optionField);
  const fields: FormField[] = [...options, ...app.form];
  if (fields.length === 0 && Object.keys(presets).length === 0)
    return Promise.resolve({ options: {}, form: {} });
  const dialog = $<HTMLDialogElement>('#options-dialog');
  const form = $<HTMLFormElement>('#options-form', dialog);
  $('#options-title', dialog).textContent =
    `Start ${app.title}${app.runs_on === 'slurm' ? ' on the cluster' : ''}`;
  $('#options-help', dialog).textContent = app.runs_on === 'slurm' ? SLURM_HELP : HOST_HELP;
  const { values, notes } = startValues(app, presets);
  const noteList = $('#options-notes', dialog);
  noteList.replaceChildren(...notes.map((n) => h('li', {}, n)));
  noteList.hidden = notes.length === 0;
  $('#options-fields', dialog).replaceChildren(
    ...fields.map((f) => fieldInput(f, values[f.name] ?? f.default)),
  );
  return new Promise((resolve) => {
    const onSubmit = (ev: SubmitEvent) => {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      const chosen: StartChoice = { options: {}, form: {} };
      for (const f of options) chosen.options[f.name] = fieldValue(f, form);
      for (const f of app.form) chosen.form[f.name] = fieldValue(f, form);
      app.form_values = chosen.form;
      finish(chosen);
    };
    const onCancel = () => finish(null);
    const finish = (result: StartChoice | null) => {
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

/** The remembered values with the link's allowed presets over them, and a note for each preset left out. */
function startValues(
  app: App,
  presets: Record<string, string>,
): { values: Record<string, FormValue>; notes: string[] } {
  const values: Record<string, FormValue> = { ...app.form_values };
  const notes: string[] = [];
  for (const [name, raw] of Object.entries(presets)) {
    const field = app.form.find((f) => f.name === name);
    const value = field ? presetValue(field, raw) : null;
    if (field && value !== null) values[name] = value;
    else
      notes.push(
        field
          ? `The link's value for ${field.label} was left out: you may not choose it.`
          : `The link sets '${name}', which ${app.title} does not ask for; it was left out.`,
      );
  }
  return { values, notes };
}
