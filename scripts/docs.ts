// Regenerates the docs pages derived from code: `npm run docs`. A unit test fails when they are stale.
import * as fs from "fs";
import * as path from "path";
import { jobLineage, renderLineageDoc } from "../components/jobs/lineage";
import { loadJobTable } from "../components/jobs/table";

export const LINEAGE_DOC = path.join(__dirname, "..", "docs", "lineage.md");

if (require.main === module) {
  fs.writeFileSync(LINEAGE_DOC, renderLineageDoc(jobLineage(loadJobTable())));
  console.log(`wrote ${path.relative(process.cwd(), LINEAGE_DOC)}`);
}
