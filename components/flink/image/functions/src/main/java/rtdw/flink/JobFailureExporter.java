package rtdw.flink;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The root exception of each Flink job, as a Prometheus series: Flink's own metrics carry no text, and
 * the seeds route a failed job to the ops team with its cause. Every POLL_SECONDS it reads the
 * JobManager's /jobs/overview and, for the newest job of each name that has failed at least once
 * (its state FAILED, or restarts in its exception history), the newest entry of /jobs/:id/exceptions.
 * Serves, behind basic auth:
 *   rtdw_flink_job_exception_info{job_name, job_id, state, exception} 1
 *   rtdw_flink_rest_up 1|0
 * job_name in the form Flink's Prometheus reporter gives it ('-' and other characters become '_'),
 * so an alert on Flink's series can look the exception up by its job_name label. The exception is
 * the first line of the stack trace and its innermost "Caused by:", quoted values (often a record's
 * data) replaced by '…', at most 300 characters.
 *
 * Environment: FLINK_REST_URL, LISTEN_PORT, SCRAPE_USER, SCRAPE_PASSWORD (required: no open endpoint),
 * LISTEN_ADDRESS (default 0.0.0.0), POLL_SECONDS (default 5).
 * It needs nothing but the JDK (its own small JSON reader): with Flink's lib/ on the class path the
 * JVM maps flink-dist's 100+ MB jar, and the process no longer fits a 64 MiB container.
 */
public final class JobFailureExporter {
  private static final int MAX_EXCEPTION = 300;

  private final String rest;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private volatile String page = "rtdw_flink_rest_up 0\n";

  private JobFailureExporter(String rest) {
    this.rest = rest.replaceAll("/+$", "");
  }

  public static void main(String[] args) throws Exception {
    String user = required("SCRAPE_USER");
    byte[] expected = ("Basic " + Base64.getEncoder().encodeToString((user + ":" + required("SCRAPE_PASSWORD")).getBytes(StandardCharsets.UTF_8))).getBytes(StandardCharsets.UTF_8);
    JobFailureExporter exporter = new JobFailureExporter(required("FLINK_REST_URL"));
    long pollMs = Long.parseLong(System.getenv().getOrDefault("POLL_SECONDS", "5")) * 1000L;
    HttpServer server = HttpServer.create(new InetSocketAddress(System.getenv().getOrDefault("LISTEN_ADDRESS", "0.0.0.0"), Integer.parseInt(required("LISTEN_PORT"))), 16);
    server.createContext("/metrics", ex -> exporter.serve(ex, expected));
    server.setExecutor(Executors.newFixedThreadPool(2));
    server.start();
    for (;;) {
      exporter.page = exporter.scrape();
      Thread.sleep(pollMs);
    }
  }

  private static String required(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException(name + " is not set");
    return v;
  }

  private void serve(HttpExchange ex, byte[] expected) throws IOException {
    try (ex) {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      if (auth == null || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8), expected)) {
        ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"metrics\"");
        ex.sendResponseHeaders(401, -1);
        return;
      }
      byte[] body = page.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private Object get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(rest + path)).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new IOException(path + " answered " + r.statusCode());
    return new Json(r.body()).value();
  }

  @SuppressWarnings("unchecked")
  private static Object at(Object node, String... keys) {
    for (String k : keys) node = node instanceof Map ? ((Map<String, Object>) node).get(k) : null;
    return node;
  }

  private static String text(Object node, String fallback) {
    return node == null ? fallback : String.valueOf(node);
  }

  String scrape() {
    try {
      Map<String, Map<?, ?>> newest = new HashMap<>();
      Object jobs = at(get("/jobs/overview"), "jobs");
      for (Object o : jobs instanceof List ? (List<?>) jobs : List.of()) {
        Map<?, ?> j = (Map<?, ?>) o;
        String name = text(j.get("name"), "");
        Map<?, ?> seen = newest.get(name);
        if (seen == null || ((Number) j.get("start-time")).longValue() > ((Number) seen.get("start-time")).longValue()) newest.put(name, j);
      }
      List<String> lines = new ArrayList<>();
      for (Map<?, ?> j : newest.values()) {
        String id = text(j.get("jid"), "");
        Object entries = at(get("/jobs/" + id + "/exceptions?maxExceptions=1"), "exceptionHistory", "entries");
        if (!(entries instanceof List) || ((List<?>) entries).isEmpty()) continue;
        Object first = ((List<?>) entries).get(0);
        String exception = summarize(text(at(first, "stacktrace"), text(at(first, "exceptionName"), "")));
        lines.add("rtdw_flink_job_exception_info{job_name=\"" + label(flinkLabel(text(j.get("name"), ""))) + "\",job_id=\"" + label(id) + "\",state=\"" + label(text(j.get("state"), ""))
            + "\",exception=\"" + label(exception) + "\"} 1");
      }
      lines.sort(null);
      StringBuilder out = new StringBuilder("# HELP rtdw_flink_job_exception_info The newest root exception of the newest job of each name, from the JobManager's exception history.\n# TYPE rtdw_flink_job_exception_info gauge\n");
      for (String l : lines) out.append(l).append('\n');
      return out.append("rtdw_flink_rest_up 1\n").toString();
    } catch (IOException | RuntimeException e) {
      return "rtdw_flink_rest_up 0\n";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "rtdw_flink_rest_up 0\n";
    }
  }

  /**
   * The first line of a stack trace and, when it differs, its root cause: the last "Caused by:" of the
   * most deeply nested chain (Flink often wraps the failure in a suppressed exception), never a
   * "[CIRCULAR REFERENCE: …]" marker.
   */
  static String summarize(String trace) {
    String first = null;
    String root = null;
    int rootDepth = -1;
    for (String raw : trace.split("\n")) {
      if (raw.trim().isEmpty()) continue;
      if (first == null) first = raw.trim();
      int depth = 0;
      while (depth < raw.length() && raw.charAt(depth) == '\t') depth++;
      String l = raw.trim();
      if (!l.startsWith("Caused by: ") || l.startsWith("Caused by: [CIRCULAR REFERENCE")) continue;
      if (depth >= rootDepth) {
        rootDepth = depth;
        root = l.substring("Caused by: ".length());
      }
    }
    if (first == null) return "";
    String s = root != null && !first.contains(root) ? first + " ... caused by " + root : first;
    // Quoted values are often a record's data (a cast's input, a key): kept out of metrics, which many read and keep for weeks.
    s = s.replaceAll("'[^']*'", "'…'").replaceAll("\"[^\"]*\"", "\"…\"");
    return s.length() > MAX_EXCEPTION ? s.substring(0, MAX_EXCEPTION) : s;
  }

  /** Flink's Prometheus reporter keeps [a-zA-Z0-9:_] in label values of job names and replaces the rest with '_'. */
  static String flinkLabel(String name) {
    return name.replaceAll("[^a-zA-Z0-9:_]", "_");
  }

  private static String label(String v) {
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  /** A JSON reader for the REST answers: objects, arrays, strings, numbers (as Double), booleans, null. */
  static final class Json {
    private final String s;
    private int i;

    Json(String s) {
      this.s = s;
    }

    Object value() {
      skip();
      char c = s.charAt(i);
      if (c == '{') {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        skip();
        if (s.charAt(i) == '}') { i++; return m; }
        for (;;) {
          skip();
          String k = string();
          skip();
          expect(':');
          m.put(k, value());
          skip();
          if (s.charAt(i++) == '}') return m;
        }
      }
      if (c == '[') {
        List<Object> l = new ArrayList<>();
        i++;
        skip();
        if (s.charAt(i) == ']') { i++; return l; }
        for (;;) {
          l.add(value());
          skip();
          if (s.charAt(i++) == ']') return l;
        }
      }
      if (c == '"') return string();
      if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
      if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
      if (s.startsWith("null", i)) { i += 4; return null; }
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
      if (start == i) throw new IllegalArgumentException("unexpected '" + c + "' at " + start);
      return Double.valueOf(s.substring(start, i));
    }

    private String string() {
      expect('"');
      StringBuilder b = new StringBuilder();
      for (;;) {
        char c = s.charAt(i++);
        if (c == '"') return b.toString();
        if (c != '\\') { b.append(c); continue; }
        char e = s.charAt(i++);
        switch (e) {
          case 'n': b.append('\n'); break;
          case 't': b.append('\t'); break;
          case 'r': b.append('\r'); break;
          case 'b': b.append('\b'); break;
          case 'f': b.append('\f'); break;
          case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
          default: b.append(e);
        }
      }
    }

    private void expect(char c) {
      if (s.charAt(i) != c) throw new IllegalArgumentException("expected '" + c + "' at " + i);
      i++;
    }

    private void skip() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    }
  }
}
