import * as path from "path";
import { writePrivate } from "../credentials";
import { CONF, ensureDir } from "../paths";
import { renderRedisConf } from "../../components/services/redis";
import { tcpExchange } from "./clients";
import { SandboxService, ServiceContext } from "./types";

/** Redis: the CORE-user whitelist the collector reads. */
export function redisService({ p, s, dir, conf }: ServiceContext): SandboxService {
  return {
    name: "redis",
    port: "redis",
    after: [],
    startupSeconds: 30,
    prepare() {
      ensureDir(dir("redis"));
      writePrivate(
        path.join(conf("redis"), "redis.conf"),
        renderRedisConf({ bind: "127.0.0.1", port: p.redis, password: s.redis, dir: dir("redis"), maxmemoryMiB: 256 }),
      );
    },
    process: () => ({ name: "redis", command: "redis-server", args: [path.join(CONF, "redis", "redis.conf")] }),
    async healthy() {
      const out = await tcpExchange(p.redis, `AUTH ${s.redis}\r\nPING\r\n`, /PONG|ERR|WRONGPASS/);
      return /\+OK\r\n\+PONG/.test(out);
    },
  };
}
