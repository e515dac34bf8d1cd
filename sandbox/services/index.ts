import { flinkServices } from "./flink";
import { kafkaService } from "./kafka";
import { kubernetesServices } from "./kubernetes";
import { mariadbService } from "./mariadb";
import { minioService } from "./minio";
import { nginxService } from "./nginx";
import { observabilityServices } from "./observability";
import { s3TlsService } from "./pgbackrest";
import { postgresService } from "./postgres";
import { redisService } from "./redis";
import { serviceContext, SandboxService } from "./types";
import { vectorStandinService } from "./vectorStandin";

export { httpGet, httpPost } from "./clients";
export { BUCKETS, MARIADB_DATABASE, MARIADB_DWS_DATABASE, SandboxService } from "./types";

/** Every local service, one file each; the supervision they share is sandbox/process.ts. */
export function sandboxServices(): SandboxService[] {
  const ctx = serviceContext();
  const [prometheus, alertmanager, ...exporters] = observabilityServices(ctx);
  return [
    postgresService(ctx),
    mariadbService(ctx),
    redisService(ctx),
    minioService(ctx),
    s3TlsService(ctx),
    kafkaService(ctx),
    vectorStandinService(ctx),
    nginxService(ctx),
    prometheus,
    alertmanager,
    ...flinkServices(ctx),
    ...exporters,
    ...kubernetesServices(ctx),
  ];
}
