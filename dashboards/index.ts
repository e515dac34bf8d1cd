import { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { flinkJobs } from "./flink";
import { kafkaLag } from "./kafka";
import { platformOverview } from "./platform";
import { dataQuality } from "./quality";
import { tracking } from "./tracking";

/** Every dashboard of the platform, as Grafana dashboard JSON (built with Grafana's foundation SDK). */
export function dashboards(): Dashboard[] {
  return [platformOverview(), flinkJobs(), kafkaLag(), dataQuality(), tracking()].map((b) => b.build());
}
