import type { Config } from '../config/schema.js';

/**
 * The variables every app gets from the host: `environment`, then the `env_keep` names the
 * service's own environment has (a name it lacks is left out, not set empty).
 */
export function hostEnvironment(
  config: Pick<Config, 'environment' | 'env_keep'>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const kept = config.env_keep.flatMap((name) => {
    const value = env[name];
    return value === undefined ? [] : [[name, value] as const];
  });
  return { ...config.environment, ...Object.fromEntries(kept) };
}
