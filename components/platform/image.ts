import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BuiltImageName, ImageBuilds } from "../config";
import { revisionOf } from "./service";

export interface BuiltImageArgs {
  /** Where the stack's images go, or which are supplied prebuilt. */
  readonly builds: ImageBuilds;
  /** Folder of the Dockerfile, relative to components/. */
  readonly context: string;
  /** Build arguments. */
  readonly buildArgs: Readonly<Record<string, pulumi.Input<string>>>;
  /** Plain data that determines the image (versions, jar list); the tag is its hash, so a change rebuilds. */
  readonly fingerprint: unknown;
  /** Repository name of the image ("flink", "streampark"); rtdw:prebuiltImages supplies one by this name. */
  readonly repository: BuiltImageName;
  /** Files from outside the repository the build copies in (path in the context -> file); their digests belong in the fingerprint. */
  readonly contextFiles?: Readonly<Record<string, string>>;
}

/**
 * An image the stack builds itself (Flink with the jobs' jars, StreamPark with a Flink home, Vector
 * with a Redis client). On Docker it stays local; on Kubernetes it is pushed to rtdw:imageRegistry
 * (credentials from the ambient `docker login`) and pods pull it by digest.
 */
export class BuiltImage extends pulumi.ComponentResource {
  /** What a pod or container should run: the pushed digest, or the local tag. */
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: BuiltImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:platform:BuiltImage", name, {}, opts);
    const prebuilt = args.builds.prebuilt[args.repository as BuiltImageName];
    if (prebuilt) {
      // Built once elsewhere and promoted by digest: nothing to build or push here.
      this.ref = pulumi.output(prebuilt);
      this.registerOutputs({ ref: this.ref });
      return;
    }
    const dockerfile = fs.readFileSync(path.resolve(__dirname, "..", args.context, "Dockerfile"), "utf8");
    const tag = revisionOf(dockerfile, args.fingerprint);
    const local = args.builds.local;
    const context = buildContext(path.resolve(__dirname, "..", args.context), tag, args.contextFiles ?? {});
    const image = new docker.Image(
      `${name}-image`,
      {
        imageName: `${local ? "rtdw-local" : args.builds.registry}/${args.repository}:${tag}`,
        build: {
          context,
          args: { ...args.buildArgs },
          platform: "linux/amd64",
        },
        skipPush: local,
      },
      { parent: this },
    );
    this.ref = local ? image.imageName : image.repoDigest;
    this.registerOutputs({ ref: this.ref });
  }
}

/**
 * The folder Docker builds from: the repository's own, or, when files from outside it go in, a copy
 * with them added. Named by the image's tag, so the same inputs give the same path (no diff).
 */
function buildContext(dir: string, tag: string, extra: Readonly<Record<string, string>>): string {
  if (!Object.keys(extra).length) return dir;
  const out = path.join(os.tmpdir(), `rtdw-build-${path.basename(dir)}-${tag}`);
  fs.cpSync(dir, out, { recursive: true });
  for (const [to, from] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(out, to)), { recursive: true });
    fs.copyFileSync(from, path.join(out, to));
  }
  return out;
}
