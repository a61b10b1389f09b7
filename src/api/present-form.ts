import {
  checkFormValues,
  defaultValue,
  numberMax,
  pickable,
  type FormValue,
} from '../catalog/form-values.js';
import type { FormField } from '../catalog/form.js';
import type { CatalogApp } from '../catalog/types.js';
import type { Account } from '../users/account.js';

/** A launch form field as GET api/apps shows it to one user: select options narrowed to the ones their groups may pick, a number's max raised for their groups. */
export type PresentedField = { name: string; default: FormValue } & Record<string, unknown>;

export function presentForm(app: CatalogApp, account: Account | undefined): PresentedField[] {
  const groups = account?.groups ?? [];
  return Object.entries(app.form).map(([name, field]) => {
    const named = { name, default: defaultValue(field, groups) };
    if (field.type === 'number') {
      // Other groups' maximums are not this user's business.
      const { max_by_group: _others, ...rest } = field;
      return { ...rest, ...named, max: numberMax(field, groups) };
    }
    if (field.type !== 'select') return { ...field, ...named };
    const options = pickable(field, groups).map((o) => ({
      value: o.value,
      label: o.label ?? o.value,
    }));
    return { ...field, ...named, options };
  });
}

/**
 * The values the user chose at their latest start of this app, field by field, keeping
 * only those still allowed (the app file or the user's groups may have changed since).
 */
export function rememberedValues(
  app: CatalogApp,
  account: Account | undefined,
  last: Record<string, unknown> | undefined,
): Record<string, FormValue> {
  if (!account || !last) return {};
  const user = { groups: account.groups, home: account.home };
  const out: Record<string, FormValue> = {};
  for (const [name, value] of Object.entries(last)) {
    if (!Object.hasOwn(app.form, name)) continue;
    try {
      checkFormValues(
        { name: app.name, form: { [name]: app.form[name] as FormField } },
        { [name]: value },
        user,
      );
      out[name] = value as FormValue;
    } catch {
      // A value no longer allowed is simply not offered again; the field shows its default.
    }
  }
  return out;
}
