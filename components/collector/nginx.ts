import { CollectorLimits, requestLineKiB, RETRY_AFTER_SECONDS } from "../config/collectorLimits";

/**
 * The Nginx side of the tracking collector, rendered for both the stacks and the sandbox. Nginx
 * answers the Sensors SDKs at /sa, /sa.gif and /debug (GET data=..., POST data/data_list with
 * gzip=0|1, project/token in the query), forwards each request to Vector's HTTP source with the
 * client address and its own receive time, and logs every request as JSON with its body: a record to
 * replay from if Vector lost anything. CORS is open (the JS SDK posts cross-origin, without
 * credentials). If Vector cannot take the request Nginx answers 503, which makes the SDKs keep the
 * batch and retry; it never answers 4xx for bad data (SDKs drop batches on 4xx) - Vector sorts bad
 * events into the dead-letter instead.
 */
export interface NginxConfigOptions {
  /** Where Nginx listens (":8080" in a pod, "127.0.0.1:28080" in the sandbox). */
  readonly listen: string;
  /** Where stub_status is served for the metrics exporter: an internal port, never the public one. */
  readonly statusListen: string;
  /** Vector's HTTP source, host:port. */
  readonly upstream: string;
  /** Access log target ("/dev/stdout" in a container). */
  readonly accessLog: string;
  readonly errorLog: string;
  /** Also send each access-log line to Vector's syslog source (host:port, UDP), which counts the answers. */
  readonly syslog?: string;
  readonly pidFile: string;
  /** Writable temp folder for bodies and proxy buffers. */
  readonly tempDir: string;
  /** Load balancer CIDRs whose X-Forwarded-For is trusted for the client address. */
  readonly trustedProxies: readonly string[];
  /** Body size, rate and connection limits (rtdw:collector). */
  readonly limits: CollectorLimits;
  /** Worker processes: the container's CPU limit rounded up (a pod's "auto" would count the node's CPUs). */
  readonly workers: number;
}

export function renderNginxConf(o: NginxConfigOptions): string {
  const l = o.limits;
  const body = l.maxBodyKiB;
  /** A request sent to Vector again, marked: what its 4xx and 5xx answers turn into. */
  const toVector = (r: { path: string; body: string; contentType: string; marker: string; refused: string }) => `      rewrite ^ ${r.path} break;
      proxy_http_version 1.1;
      proxy_method POST;
      proxy_pass_request_body off;
      proxy_set_body ${r.body};
      proxy_set_header Content-Type ${r.contentType};
      proxy_set_header Content-Encoding "";
      proxy_set_header Connection "";
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Request-Time $msec;
      proxy_set_header X-Request-Id $request_id;
      proxy_set_header X-Rtdw-Rejected "${r.marker}";
      proxy_set_header X-Rtdw-Replay "";
      proxy_connect_timeout 2s;
      proxy_read_timeout 5s;
      proxy_pass http://vector;
      proxy_intercept_errors on;
      error_page 400 404 405 413 415 422 = ${r.refused};
      error_page 500 502 503 504 = @retry;`;
  // What Vector is told when Nginx could not read a request: it becomes one dead-letter record.
  const rejected = (reason: string, detail: string) => `
      internal;
      add_header Access-Control-Allow-Origin "*" always;

      # The query string (project, token) stays: the record says whose request it was.
${toVector({ path: "/rejected", body: `"rtdw_rejected=${reason}&${detail}"`, contentType: '"application/x-www-form-urlencoded"', marker: reason, refused: "@accepted" })}`;
  return `worker_processes ${Math.max(1, Math.ceil(o.workers))};
worker_rlimit_nofile 16384;
pid ${o.pidFile};
error_log ${o.errorLog} warn;
events { worker_connections 4096; }

http {
  client_body_temp_path ${o.tempDir}/body;
  proxy_temp_path ${o.tempDir}/proxy;
  fastcgi_temp_path ${o.tempDir}/fastcgi;
  uwsgi_temp_path ${o.tempDir}/uwsgi;
  scgi_temp_path ${o.tempDir}/scgi;
  server_tokens off;
  # Nothing reaches nginx's compiled-in default log; the public server logs in its own format.
  access_log off;
  sendfile on;
  keepalive_timeout 30s;

  # The whole body in one memory buffer: a GET's query string and a POST's body are forwarded as
  # $sensors_body, which needs the body in memory (bigger bodies would go to a file).
  client_max_body_size ${body}k;
  client_body_buffer_size ${body}k;
  client_body_in_single_buffer on;
  # A GET carries its batch in the query string (the JS SDK's sa.gif): room for what a body may hold.
  large_client_header_buffers 4 ${requestLineKiB(l)}k;
  client_header_timeout 10s;
  client_body_timeout 10s;
  send_timeout 10s;

  # Per client address (after X-Forwarded-For from trusted proxies): a request rate with a burst, and
  # open connections. Past either, 503 + Retry-After, which the SDKs retry. 32 MB of state holds
  # about half a million addresses; when full, new addresses are refused the same way.
  limit_req_zone $binary_remote_addr zone=sdk_rate:32m rate=${l.requestsPerSecond}r/s;
  limit_conn_zone $binary_remote_addr zone=sdk_conn:32m;
  limit_req_status 503;
  limit_conn_status 503;

${o.trustedProxies.map((c) => `  set_real_ip_from ${c};`).join("\n")}
  real_ip_header X-Forwarded-For;
  real_ip_recursive on;

  # What operations need and no personal data: no body, no query string (it holds the events and
  # tokens), no user agent, the client's address cut to its network (/24, or /32 of an IPv6 address).
  # The raw payload lives only in the dead-letter topic, whose retention is set per stack.
  map $remote_addr $client_net {
    ~^(?P<net>\\d+\\.\\d+\\.\\d+)\\.\\d+$ $net.0;
    ~^(?P<net>[0-9a-fA-F]*:[0-9a-fA-F]*): $net::;
    default "-";
  }
  log_format sensors escape=json '{"recv_time":"$msec","request_id":"$request_id","client_net":"$client_net",'
    '"method":"$request_method","uri":"$uri","project":"$arg_project","status":$status,"upstream_status":"$upstream_status",'
    '"limit_req":"$limit_req_status","limit_conn":"$limit_conn_status",'
    '"request_bytes":$request_length,"response_bytes":$bytes_sent,"request_time":$request_time,"upstream_time":"$upstream_response_time"}';

  # Vector's http_server source makes no event from a request without a body (vectordotdev/vector
  # #19290), so a GET's query string is forwarded as a form POST: Vector sees one shape for both.
  map $request_method $sensors_body { GET $args; default $request_body; }
  map $request_method $sensors_content_type { GET "application/x-www-form-urlencoded"; default $content_type; }

  upstream vector {
    server ${o.upstream} max_fails=0;
    keepalive 32;
  }

  # Connection counters for the metrics exporter, on a port the public never reaches.
  server {
    listen ${o.statusListen};
    location = /stub_status { access_log off; stub_status; }
    location / { return 404; }
  }

  server {
    listen ${o.listen};
    # At the server level, so requests finished in @accepted or @retry are logged the same way (a
    # location's access_log does not follow an error_page redirect: they went to nginx's compiled-in
    # default log in the combined format, query string and full address included).
    access_log ${o.accessLog} sensors;${o.syslog ? `
    access_log syslog:server=${o.syslog},tag=rtdw_nginx,nohostname sensors;` : ""}
    # Nginx's error messages quote the request line, query string included: only critical ones are
    # kept; an unreachable Vector shows as upstream_status and 503s in the access log and metrics.
    error_log ${o.errorLog} crit;
    # A request line too long to read (a GET batch past the limit): a dead-letter record, not a 414.
    error_page 414 = /rtdw-rejected-uri;
    # A notice's own outcome (from Vector) must still map to 200 or 503: error pages inside an error page.
    recursive_error_pages on;

    location = /healthz { access_log off; return 200 "ok\\n"; }

    location ~ ^/(sa|sa\\.gif|debug)$ {
      add_header Access-Control-Allow-Origin "*" always;
      add_header Access-Control-Allow-Methods "GET, POST, OPTIONS" always;
      add_header Access-Control-Allow-Headers "Content-Type, Dry-Run" always;
      add_header Access-Control-Max-Age "86400" always;
      if ($request_method = OPTIONS) { return 204; }
      limit_req zone=sdk_rate burst=${l.burst} nodelay;
      limit_conn sdk_conn ${l.connectionsPerClient};
      # A body past the limit is not read: Vector records that it came, how big it was, and why it was not read.
      error_page 413 = /rtdw-rejected-body?$args;

      proxy_http_version 1.1;
      proxy_method POST;
      proxy_set_body $sensors_body;
      proxy_set_header Content-Type $sensors_content_type;
      proxy_set_header Connection "";
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Request-Time $msec;
      proxy_set_header X-Request-Id $request_id;
      # Only Nginx may say a request was rejected.
      proxy_set_header X-Rtdw-Rejected "";
      # Only a replay of the raw archive, sent to Vector directly, is marked as one.
      proxy_set_header X-Rtdw-Replay "";
      # The SDKs compress inside the body (gzip=1); a Content-Encoding header would make Vector
      # decompress the body itself and refuse it (400/415) when that fails.
      proxy_set_header Content-Encoding "";
      proxy_connect_timeout 2s;
      proxy_read_timeout 5s;
      proxy_pass http://vector;
      # Whatever Vector says, the SDK hears 200 or 503: a 4xx would make it drop the batch. A 4xx
      # from Vector is a refusal of this request: it is sent again, marked, for the dead-letter
      # (200 only once Vector has taken that), else 503 and the SDK retries.
      proxy_intercept_errors on;
      error_page 400 404 405 415 422 = /rtdw-refused?$args;
      error_page 500 502 503 504 = @retry;
    }
    location = /rtdw-refused {
      internal;
      add_header Access-Control-Allow-Origin "*" always;
${toVector({ path: "/refused", body: "$sensors_body", contentType: "$sensors_content_type", marker: "vector_refused", refused: "@retry" })}
    }
    # Error pages by URI, not by name: a request whose line could not be read has no URI to keep.
    location = /rtdw-rejected-body {${rejected("body_too_large", "bytes=$content_length&limit=" + body * 1024)}
      # Vector's own 413 (it has no body limit of its own) would land here too, and be recorded as too large.
    }
    location = /rtdw-rejected-uri {${rejected("uri_too_long", "limit=" + requestLineKiB(l) * 1024)}
    }
    location @accepted { add_header Access-Control-Allow-Origin "*" always; return 200; }
    location @retry { add_header Access-Control-Allow-Origin "*" always; add_header Retry-After "${RETRY_AFTER_SECONDS}" always; return 503; }
  }
}
`;
}
