/** PostgreSQL backup policy: the config schema and defaults of components/services/pgbackrest.ts. */

/** What the backups keep and how often they run (rtdw:backups.postgres). */
export interface BackupPolicy {
  /** Full backups kept; older ones and the WAL only they need are expired by pgBackRest. */
  readonly retentionFull: number;
  /** Days between full backups. */
  readonly fullEveryDays: number;
  /** Hours between differential backups (each against the newest full). */
  readonly diffEveryHours: number;
  /** PostgreSQL switches to a new WAL segment at least this often, so at most this much is unarchived (the RPO). */
  readonly archiveTimeoutSeconds: number;
}

/**
 * Per profile (`rtdw:postgresBackups` overrides any field): prod keeps four weekly fulls (a month of
 * point-in-time recovery) with a differential every 6 h and at most a minute of WAL unarchived.
 */
export const DEFAULT_BACKUP_POLICY: Readonly<Record<"dev" | "test" | "prod", BackupPolicy>> = {
  dev: { retentionFull: 1, fullEveryDays: 7, diffEveryHours: 24, archiveTimeoutSeconds: 300 },
  test: { retentionFull: 2, fullEveryDays: 7, diffEveryHours: 24, archiveTimeoutSeconds: 120 },
  prod: { retentionFull: 4, fullEveryDays: 7, diffEveryHours: 6, archiveTimeoutSeconds: 60 },
};

/** Problems with a policy, each naming the key; empty when usable. */
export function backupPolicyProblems(b: BackupPolicy, key: (k: string) => string): string[] {
  const problems: string[] = [];
  if (b.diffEveryHours > b.fullEveryDays * 24) {
    problems.push(`${key("postgresBackups.diffEveryHours")}: ${b.diffEveryHours} h is longer than the ${b.fullEveryDays} d between full backups; use at most ${b.fullEveryDays * 24}`);
  }
  return problems;
}

/** docs/configuration.md's table of the backup defaults per profile. */
export function renderBackupPolicyDoc(): string {
  const rows = (["dev", "test", "prod"] as const).map((p) => {
    const b = DEFAULT_BACKUP_POLICY[p];
    return `| ${p} | ${b.retentionFull} | ${b.fullEveryDays} | ${b.diffEveryHours} | ${b.archiveTimeoutSeconds} |`;
  });
  return ["| profile | `retentionFull` (full backups kept) | `fullEveryDays` | `diffEveryHours` | `archiveTimeoutSeconds` (the RPO of a lost volume) |", "|---|---|---|---|---|", ...rows].join("\n");
}
