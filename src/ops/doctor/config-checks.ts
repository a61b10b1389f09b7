import { inspectCatalog, type ConfigInspection } from '../check/inspect-config.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';

export function checkConfig(file: string, inspection: ConfigInspection): CheckResult[] {
  if (inspection.problems.length === 0) return [ok(`config ${file} is valid`)];
  return [
    fail(
      `config ${file}: ${inspection.problems.length} problem(s)`,
      `edit ${file} (every key: docs/configuration.md); hubapps check-config --config ${file} checks it`,
      inspection.problems.map((p) => p.message),
    ),
  ];
}

export function checkCatalog(ctx: DoctorContext, invalidKeys: Set<string>): CheckResult[] {
  if (!ctx.settings || invalidKeys.has('catalog_dir'))
    return [skipped('app catalog', 'catalog_dir is not valid')];
  const dir = ctx.settings.catalog_dir;
  const { apps, problems } = inspectCatalog(dir);
  if (problems.length > 0) {
    const files = [...new Set(problems.map((p) => p.file))];
    return [
      fail(
        `app catalog ${dir}: ${files.length} bad file(s): ${files.join(', ')}`,
        `fix or remove the files named (the service skips them until then); hubapps check-config lists every problem`,
        problems.map((p) => p.message),
      ),
    ];
  }
  if (apps.length === 0)
    return [
      warn(
        `app catalog ${dir} has no apps: users see an empty launcher`,
        `add NAME.yaml files to ${dir} (see files.yaml.sample there)`,
      ),
    ];
  return [ok(`app catalog ${dir}: ${apps.length} app(s): ${apps.map((a) => a.name).join(', ')}`)];
}
