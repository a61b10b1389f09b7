import { z } from 'zod';

/** The subset of JSON Schema that z.toJSONSchema produces for our schemas. */
interface JsonNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  items?: JsonNode;
  properties?: Record<string, JsonNode>;
  required?: string[];
  propertyNames?: JsonNode;
  additionalProperties?: JsonNode | boolean;
}

/** Patterns of the shared string types in the schemas, named the way an admin thinks of them. */
const PATTERN_NAMES: Record<string, string> = {
  '^(env|file|credential):.+$': 'secret reference',
  '^\\/.*': 'path starting with /',
  '^\\/([A-Za-z0-9._~-]+\\/)*$': 'URL path, starting and ending with /',
  '^[A-Za-z0-9._-]+\\.(svg|png)$': 'file name ending in .svg or .png',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'variable name',
  '^(?!\\d+$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$': 'Unix group name',
};

/**
 * A Markdown table of every key of `schema` (nested keys dotted), with type, default and
 * description, read from zod's own JSON Schema rendering of the input side.
 */
export function keyTable(schema: z.ZodType): string {
  const root = z.toJSONSchema(schema, { io: 'input' }) as JsonNode;
  const lines = ['| Key | Type | Default | Description |', '|---|---|---|---|'];
  for (const row of rows(root, '')) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

function rows(node: JsonNode, prefix: string): string[][] {
  const required = new Set(node.required ?? []);
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const key = `${prefix}${name}`;
    const row = [
      `\`${key}\``,
      typeLabel(child),
      defaultLabel(child, required.has(name)),
      child.description ?? '',
    ];
    if (child.properties) return [row, ...rows(child, `${key}.`)];
    // A mapping of names to mappings (group_settings): its keys under a * for the name.
    const each = child.additionalProperties;
    if (typeof each === 'object' && each.properties) return [row, ...rows(each, `${key}.*.`)];
    return [row];
  });
}

function typeLabel(node: JsonNode): string {
  if (node.enum) return `one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  switch (node.type) {
    case 'string':
      return stringLabel(node);
    case 'integer':
    case 'number':
      return `${node.type}${rangeLabel(node)}`;
    case 'boolean':
      return 'boolean';
    case 'array':
      return `list of ${node.items ? plural(typeLabel(node.items)) : 'values'}${node.minItems ? ` (at least ${node.minItems})` : ''}`;
    case 'object':
      if (node.properties) return 'mapping (keys below)';
      if (typeof node.additionalProperties === 'object' && node.additionalProperties.properties)
        return `mapping of ${node.propertyNames ? stringLabel(node.propertyNames) : 'string'} to mappings (keys below, under *)`;
      return `mapping of ${node.propertyNames ? stringLabel(node.propertyNames) : 'string'} to ${
        typeof node.additionalProperties === 'object'
          ? typeLabel(node.additionalProperties)
          : 'value'
      }`;
    default:
      return node.type ?? 'any';
  }
}

function plural(label: string): string {
  return label === 'string' ? 'strings' : label;
}

function stringLabel(node: JsonNode): string {
  let label = 'string';
  if (node.format === 'uri') label = 'URL';
  else if (node.pattern !== undefined)
    label = PATTERN_NAMES[node.pattern] ?? `string matching \`${node.pattern}\``;
  if (node.minLength !== undefined && node.maxLength !== undefined)
    return `${label} (${node.minLength}–${node.maxLength} characters)`;
  if (node.maxLength !== undefined) return `${label} (at most ${node.maxLength} characters)`;
  if (node.minLength !== undefined && node.minLength > 0) return `${label} (not empty)`;
  return label;
}

function rangeLabel(node: JsonNode): string {
  const max =
    node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
  if (node.minimum !== undefined && max !== undefined) return `, ${node.minimum}–${max}`;
  const parts: string[] = [];
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum}`);
  if (node.minimum !== undefined) parts.push(`≥ ${node.minimum}`);
  if (max !== undefined) parts.push(`≤ ${max}`);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

function defaultLabel(node: JsonNode, required: boolean): string {
  if (required) return '**required**';
  if (node.default === undefined) return 'not set';
  if (node.properties) return '';
  return `\`${JSON.stringify(node.default)}\``;
}

/** Table cells hold one line; a literal | would end the cell. */
function cell(text: string): string {
  return text.replace(/\n/g, ' ').replace(/\|/g, '\\|');
}
