/**
 * Message personalization: {nom}, {prenom}, {email}, {telephone} and {custom.field} filled from
 * the recipient's contact. A variable that cannot be filled (unknown name, no such contact, no
 * value) is left as written and reported, so a sender sees it rather than a silent blank.
 */
export interface FillSource {
  name: string;
  email: string | null;
  phone: string;
  custom_fields: string;
}

export interface Filled {
  text: string;
  /** Variables left as written. */
  unfilled: string[];
}

const VARIABLE = /\{([A-Za-z_][\w.-]*)\}/g;

export const hasVariables = (text: string): boolean => /\{[A-Za-z_][\w.-]*\}/.test(text);

export function fill(text: string, contact: FillSource | undefined, extra: Record<string, string> = {}): Filled {
  const unfilled: string[] = [];
  const custom = contact ? (JSON.parse(contact.custom_fields) as Record<string, unknown>) : {};
  const out = text.replace(VARIABLE, (whole, name: string) => {
    const value = extra[whole] ?? extra[name] ?? valueOf(name, contact, custom);
    if (value === undefined || value === null || value === '') {
      unfilled.push(whole);
      return whole;
    }
    return String(value);
  });
  return { text: out, unfilled: [...new Set(unfilled)] };
}

function valueOf(name: string, c: FillSource | undefined, custom: Record<string, unknown>): unknown {
  if (!c) return undefined;
  switch (name) {
    case 'nom': return c.name;
    case 'prenom': return c.name.trim().split(/\s+/)[0];
    case 'email': return c.email;
    case 'telephone': return c.phone;
    default: return name.startsWith('custom.') ? custom[name.slice('custom.'.length)] : undefined;
  }
}

/** Variables a text uses, for template previews. */
export const variablesOf = (text: string): string[] => [...new Set([...text.matchAll(VARIABLE)].map((m) => m[0]))];
