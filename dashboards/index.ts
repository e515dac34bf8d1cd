import { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { flinkJobs } from "./flink";
import { kafkaLag } from "./kafka";
import { platformOverview } from "./platform";
import { dataQuality } from "./quality";
import { tracking } from "./tracking";

/** Every dashboard of the platform, as Grafana dashboard JSON (built with Grafana's foundation SDK). */
export function dashboards(): Dashboard[] {
  return [platformOverview(), flinkJobs(), kafkaLag(), dataQuality(), tracking()].map((b) => withoutStrayDefaults(b.build()));
}

/**
 * The SDK (Grafana 11.6's schema) gives every variable the interval variable's auto, auto_min and
 * auto_count; Grafana 12's schema has no such fields on other variables (found by the schema check).
 */
function withoutStrayDefaults(d: Dashboard): Dashboard {
  for (const v of d.templating?.list ?? []) {
    if (v.type !== "interval") for (const k of ["auto", "auto_min", "auto_count"]) delete (v as unknown as Record<string, unknown>)[k];
  }
  return d;
}
