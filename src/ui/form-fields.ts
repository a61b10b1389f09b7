import { h } from './dom.js';
import type { FormField, FormValue, StartOption } from './types.js';

/**
 * One launch form field as inputs: the browser's own constraint checks (min, max, step,
 * pattern, maxlength) stop most mistakes before the service sees them; the service and the
 * proxy check everything again.
 */
export function fieldInput(field: FormField, value: FormValue): HTMLElement {
  const id = `form-${field.name}`;
  const help = field.help ? h('small', { id: `${id}-help`, class: 'help' }, field.help) : '';
  const described = field.help ? `${id}-help` : undefined;
  const common = { id, name: field.name, 'aria-describedby': described };
  let input: HTMLElement;
  let text = field.label;
  switch (field.type) {
    case 'select':
      input = h(
        'select',
        common,
        ...field.options.map((o) =>
          h('option', { value: o.value, selected: o.value === value }, o.label),
        ),
      );
      break;
    case 'number':
      text = `${field.label} (${field.min}–${field.max})`;
      input = h('input', {
        ...common,
        type: 'number',
        min: field.min,
        max: field.max,
        step: field.step,
        value: String(value),
        required: true,
      });
      break;
    case 'text': {
      // Not the pattern attribute: browsers read it with the 'v' flag, which refuses some patterns the service takes ('u').
      const pattern = anchored(field.pattern);
      const check = (el: HTMLInputElement) =>
        el.setCustomValidity(
          pattern.test(el.value) ? '' : `must match the pattern ${field.pattern}`,
        );
      input = h('input', {
        ...common,
        type: 'text',
        maxlength: field.max_length,
        value: String(value),
        spellcheck: 'false',
        oninput: (ev: Event) => check(ev.target as HTMLInputElement),
      });
      check(input as HTMLInputElement);
      break;
    }
    case 'checkbox':
      input = h('input', { ...common, type: 'checkbox', checked: value === true });
      break;
    case 'path':
      input = h('input', {
        ...common,
        type: 'text',
        value: String(value),
        placeholder: `a ${field.kind} in your home directory`,
        spellcheck: 'false',
        'data-path': field.kind,
        oninput: (ev: Event) => checkPath(ev.target as HTMLInputElement),
      });
      checkPath(input as HTMLInputElement);
      break;
  }
  return h(
    'div',
    { class: `field field-${field.type}` },
    h('label', { for: id }, text),
    input,
    help,
  );
}

/** The browser cannot see the home directory; it refuses the shapes that can never be under it. */
function checkPath(input: HTMLInputElement): void {
  const v = input.value;
  const problem = v.split('/').includes('..')
    ? "must not contain '..'"
    : v.startsWith('/') && !v.startsWith('/home/')
      ? 'must be in your home directory (or relative to it)'
      : '';
  input.setCustomValidity(problem);
}

/** The value a field's input holds now, typed as the API takes it. */
export function fieldValue(field: FormField, form: HTMLFormElement): FormValue {
  const el = form.elements.namedItem(field.name) as HTMLInputElement | HTMLSelectElement;
  if (field.type === 'checkbox') return (el as HTMLInputElement).checked;
  if (field.type === 'number') return Number(el.value);
  return el.value;
}

/** The resource choices (host limits or a Slurm job's) are fields of the same dialog: numbers, or names to pick. */
export function optionField(o: StartOption): FormField {
  return o.type === 'select' ? { ...o, help: '' } : { ...o, help: '', step: 1 };
}

/**
 * A preset from a link, as the field's type takes it, or null when this user may not
 * choose it (the dialog then says so instead of sending it).
 */
export function presetValue(field: FormField, raw: string): FormValue | null {
  switch (field.type) {
    case 'select':
      return field.options.some((o) => o.value === raw) ? raw : null;
    case 'number': {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) && n >= field.min && n <= field.max ? n : null;
    }
    case 'checkbox':
      return raw === 'true' ? true : raw === 'false' ? false : null;
    case 'text':
      return raw.length <= field.max_length && anchored(field.pattern).test(raw) ? raw : null;
    case 'path':
      return raw.length <= 1000 && !raw.split('/').includes('..') ? raw : null;
  }
}

/** The admin's pattern as the service reads it: the whole value must match. */
function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}
