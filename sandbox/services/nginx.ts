import * as fs from "fs";
import * as path from "path";
import { DEFAULT_COLLECTOR_LIMITS } from "../../components/config/collectorLimits";
import { renderNginxConf } from "../../components/collector/nginx";
import { CONF, ensureDir, LOGS, RUN } from "../paths";
import { httpGet } from "./clients";
import { SandboxService, ServiceContext } from "./types";

/** Nginx with the stacks' rendered config, in front of the Vector stand-in. */
export function nginxService({ p, dir, conf }: ServiceContext): SandboxService {
  // The stacks' Nginx config (renderNginxConf), in front of the Vector stand-in.
  return {
    name: "nginx",
    port: "nginx",
    after: [],
    startupSeconds: 20,
    prepare() {
      const temp = ensureDir(dir("nginx"));
      for (const t of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) fs.chmodSync(ensureDir(path.join(temp, t)), 0o777);
      const user = process.getuid?.() === 0 ? "user nobody nogroup;\n" : "";
      fs.writeFileSync(
        path.join(conf("nginx"), "nginx.conf"),
        user +
          renderNginxConf({
            listen: `127.0.0.1:${p.nginx}`,
            statusListen: `127.0.0.1:${p.nginxStatus}`,
            upstream: `127.0.0.1:${p.collector}`,
            accessLog: path.join(LOGS, "nginx-access.log"),
            errorLog: path.join(LOGS, "nginx-error.log"),
            pidFile: path.join(RUN, "nginx.pidfile"),
            tempDir: temp,
            trustedProxies: [],
            limits: DEFAULT_COLLECTOR_LIMITS,
            workers: 2,
          }),
      );
      fs.chmodSync(path.join(CONF, "nginx"), 0o755);
    },
    // As the image runs it: the foreground flag on the command line, not in the config.
    process: () => ({ name: "nginx", command: "nginx", args: ["-g", "daemon off;", "-p", dir("nginx"), "-c", path.join(CONF, "nginx", "nginx.conf")] }),
    async healthy() {
      return (await httpGet(`http://127.0.0.1:${p.nginx}/healthz`)).status === 200;
    },
  };
}
