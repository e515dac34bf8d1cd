// Regenerates the docs pages derived from code: `npm run docs`. A unit test fails when they are stale.
import * as fs from "fs";
import * as path from "path";
import { jobLineage, renderLineageDoc } from "../components/jobs/lineage";
import { loadJobTable } from "../components/jobs/table";
import { renderAlertsDoc } from "../components/observability/alerts";

export const LINEAGE_DOC = path.join(__dirname, "..", "docs", "lineage.md");
export const ALERTS_DOC = path.join(__dirname, "..", "docs", "alerts.md");

if (require.main === module) {
  fs.writeFileSync(LINEAGE_DOC, renderLineageDoc(jobLineage(loadJobTable())));
  fs.writeFileSync(ALERTS_DOC, renderAlertsDoc());
  for (const f of [LINEAGE_DOC, ALERTS_DOC]) console.log(`wrote ${path.relative(process.cwd(), f)}`);
}
