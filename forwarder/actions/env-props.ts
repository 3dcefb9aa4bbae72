import { ENV_VARS, type EnvName } from '../../shared/env.js';

/**
 * Published actions get no environment variables: each variable a step reads becomes a string prop of the
 * same name, which users map to `{{process.env.NAME}}` (secrets as secret props, never shown in the UI).
 */
export interface StringProp {
  type: 'string';
  label: string;
  description: string;
  optional: boolean;
  secret?: true;
}

export function envProps(names: readonly EnvName[], required: readonly EnvName[]): Record<string, StringProp> {
  const props: Record<string, StringProp> = {};
  for (const name of names) {
    const spec = ENV_VARS.find((v) => v.name === name)!;
    const isSecret = 'secret' in spec && spec.secret === true;
    const prop: StringProp = {
      type: 'string',
      label: name,
      description: `${spec.description} Map it to {{process.env.${name}}}.`,
      optional: !required.includes(name),
    };
    // Only secret props carry the key at all, as Pipedream's own components write them.
    if (isSecret) prop.secret = true;
    props[name] = prop;
  }
  return props;
}

/** The env-like object the config parsers read, from an action's prop values. */
export function envFromProps(
  values: Readonly<Record<string, unknown>>,
  names: readonly EnvName[],
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of names) {
    const value = values[name];
    if (value !== undefined && value !== null) env[name] = String(value);
  }
  return env;
}
