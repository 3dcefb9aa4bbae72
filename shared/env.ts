/** Reading the variables of the one table (env-vars.ts), under their names or their aliases. */
export { ENV_VARS, type EnvName, type EnvVar, type Part, type Step } from './env-vars.js';
import { ENV_VARS, type EnvName, type EnvVar, type Part, type Step } from './env-vars.js';

export type Env = Readonly<Record<string, string | undefined>>;

const byName = new Map<string, EnvVar>(ENV_VARS.map((v) => [v.name, v]));

/** The value of a variable under its canonical name or, failing that, its alias. Empty counts as unset. */
export function readEnv(env: Env, name: EnvName): string | undefined {
  const spec = byName.get(name)!;
  for (const key of [spec.name, spec.alias]) {
    if (key === undefined) continue;
    const value = env[key];
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** "NAME (or its alias alias)", for error messages that tell the user what to set. */
export function describeName(name: EnvName): string {
  const spec = byName.get(name)!;
  return spec.alias ? `${spec.name} (or ${spec.alias})` : spec.name;
}

/** The variables a Pipedream step reads, in the table's order: its action's props and pipedream.yaml's list. */
export function stepEnv(step: Step): EnvName[] {
  return ENV_VARS.filter((v) => 'step' in v && v.step === step).map((v) => v.name);
}

export function envDefault(name: EnvName): string | undefined {
  return byName.get(name)!.default;
}

/**
 * Every variable of `parts`, under its name and its alias, set empty. A child process started with these
 * keeps none of the values a `.env` in its folder holds (dotenv never replaces a variable that is set) and
 * reads each as unset, so it runs on its defaults plus what the caller sets on top: what the benchmark and
 * the tests measure cannot depend on a developer's `.env`.
 */
export function emptyEnv(parts: readonly Part[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of ENV_VARS as readonly EnvVar[]) {
    if (!spec.parts.some((part) => parts.includes(part))) continue;
    env[spec.name] = '';
    if (spec.alias !== undefined) env[spec.alias] = '';
  }
  return env;
}
