import * as cog from "@grafana/grafana-foundation-sdk/cog";
import { DashboardBuilder, DatasourceVariableBuilder, DataSourceRef } from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";

/** Every panel queries the data source chosen in the dashboard's variables, never a fixed uid. */
export const PROMETHEUS: DataSourceRef = { type: "prometheus", uid: "${prometheus}" };
export const DWS: DataSourceRef = { type: "mysql", uid: "${dws}" };

/** A dashboard of the platform: its uid, the rtdw tag, data-source variables, a sane time range. */
export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(`rtdw-${uid}`)
    .description(description)
    .tags(["rtdw"])
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .timezone("browser")
    .withVariable(new DatasourceVariableBuilder("prometheus").label("Prometheus").type("prometheus"))
    .withVariable(new DatasourceVariableBuilder("dws").label("StarRocks (DWS)").type("mysql"));
}

export const prom = (expr: string, legend = "", refId = "A") => new DataqueryBuilder().expr(expr).legendFormat(legend).refId(refId).datasource(PROMETHEUS);

/** A SQL query against StarRocks through Grafana's MySQL data source (StarRocks speaks its protocol). */
export function sql(rawSql: string, refId = "A"): cog.Builder<cog.Dataquery> {
  return {
    build: () => ({ refId, datasource: DWS, rawSql, format: "time_series", editorMode: "code", rawQuery: true, _implementsDataqueryVariant() {} }) as cog.Dataquery,
  };
}

export function timeseries(title: string, unit: string, ...targets: cog.Builder<cog.Dataquery>[]): TimeseriesBuilder {
  const p = new TimeseriesBuilder().title(title).unit(unit).datasource(PROMETHEUS).height(8).span(12);
  for (const t of targets) p.withTarget(t);
  return p;
}

export function stat(title: string, unit: string, target: cog.Builder<cog.Dataquery>): StatBuilder {
  return new StatBuilder().title(title).unit(unit).datasource(PROMETHEUS).withTarget(target).height(4).span(6);
}
