import * as fs from "fs";
import { down, ENDPOINTS_FILE, status, up } from "./index";
import { install } from "./install";
import { HOME } from "./paths";

const USAGE = `usage: npm run sandbox -- <command>
  install        install what is missing into ${HOME}/cache
  up             install, start every service, wait until all are healthy
  status         one line per service: health, port, pid
  down           stop the processes \`up\` started
  down --purge   ... and delete all sandbox data, generated passwords and the local stack's state (keeps the install cache)
  endpoints      print the endpoints file (the Pulumi stack's output shape)`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "install": {
      const { flinkJarsChanged } = install();
      if (flinkJarsChanged.length) console.log(`Flink's jars changed (${flinkJarsChanged.join(", ")}): a running Flink keeps the old ones until \`down\` and \`up\``);
      return 0;
    }
    case "up":
      await up();
      return 0;
    case "down": {
      const stopped = await down();
      console.log(stopped.length ? `stopped: ${stopped.join(", ")}` : "nothing was running");
      if (rest.includes("--purge")) {
        for (const d of ["data", "conf", "run", "logs", "pulumi", "endpoints.json"]) fs.rmSync(`${HOME}/${d}`, { recursive: true, force: true });
        console.log(`purged data and passwords under ${HOME}`);
      }
      return 0;
    }
    case "status": {
      const rows = await status();
      for (const r of rows) {
        console.log(`${r.name.padEnd(18)} ${(r.pid === undefined ? "stopped" : r.healthy ? "healthy" : "UNHEALTHY").padEnd(9)} port ${String(r.port).padEnd(5)} pid ${r.pid ?? "-"}`);
      }
      return rows.every((r) => r.healthy) ? 0 : 3;
    }
    case "endpoints":
      process.stdout.write(fs.readFileSync(ENDPOINTS_FILE, "utf8"));
      return 0;
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`sandbox: ${(e as Error).message}`);
    process.exit(1);
  },
);
