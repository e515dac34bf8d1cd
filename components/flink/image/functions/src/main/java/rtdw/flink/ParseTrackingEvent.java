package rtdw.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.types.Row;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a tracking event (one Kafka record as Vector wrote it) once and returns one row: whether the
 * payload {@code IS JSON}, each top-level field as {@code JSON_VALUE(payload, '$.<field>')} returns it,
 * and {@code properties} as {@code JSON_QUERY(payload, '$.properties')} returns it.
 *
 * <p>Flink 1.20 parses the payload again in every JSON_VALUE call, about twenty times per event in
 * the tracking ODS job. The answers here are Flink's, not an approximation (see {@link JsonText}).
 * Casts and reject reasons stay in the SQL.
 * tests/integration/tracking-parse.test.ts compares both on the gateway over awkward payloads.
 *
 * <p>A scalar function returning a ROW ({@link ParseOnceFunction}), not a table function: the ODS and
 * the reject INSERT of rt-trk-ods read the same view, and a LATERAL TABLE call gets a correlation
 * variable of its own in each INSERT, so the planner cannot see the two calls are one (the job also
 * asks the planner to optimize that view once, by its digest). The job's EXPLAIN shows a single call
 * (tests/integration/tracking-parse.test.ts).
 */
public final class ParseTrackingEvent extends ParseOnceFunction {

    static final String ROW_TYPE =
            "ROW<is_json BOOLEAN, event_id STRING, type STRING, event STRING, distinct_id STRING,"
                    + " login_id STRING, anonymous_id STRING, `time` STRING, flush_time STRING,"
                    + " recv_time STRING, track_id STRING, project STRING, lib STRING,"
                    + " lib_version STRING, ip STRING, country STRING, province STRING, city STRING,"
                    + " user_agent STRING, is_core STRING, properties STRING>";

    /** The scalar fields, in the order of the output row after is_json. */
    static final String[] SCALARS = {
        "event_id", "type", "event", "distinct_id", "login_id", "anonymous_id", "time", "flush_time",
        "recv_time", "track_id", "project", "lib", "lib_version", "ip", "country", "province", "city",
        "user_agent", "is_core"
    };

    private static final int PROPERTIES = SCALARS.length + 1;
    private static final int WIDTH = SCALARS.length + 2;
    private static final Map<String, Integer> POSITION = new HashMap<>();

    static {
        for (int i = 0; i < SCALARS.length; i++) POSITION.put(SCALARS[i], i + 1);
    }

    public @DataTypeHint(ROW_TYPE) Row eval(String payload) {
        return parse(payload);
    }

    /** The row for one payload; never null, so every record reaches the SQL's ODS or reject branch. */
    static Row parse(String payload) {
        Row row = Row.withPositions(WIDTH);
        if (payload == null) {
            row.setField(0, false);
            return row;
        }
        Object[] fields = new Object[WIDTH];
        try (JsonParser p = JsonText.FACTORY.createParser(payload)) {
            JsonToken root = p.nextToken();
            if (root == null) throw new IOException("no content");
            if (root == JsonToken.START_OBJECT) {
                readObject(p, fields);
            } else {
                // Valid JSON that is not an object: no field exists, but the whole value must parse.
                p.skipChildren();
            }
        } catch (IOException | RuntimeException notJson) {
            row.setField(0, false);
            return row;
        }
        fields[0] = true;
        for (int i = 0; i < WIDTH; i++) row.setField(i, fields[i]);
        return row;
    }

    private static void readObject(JsonParser p, Object[] fields) throws IOException {
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            if ("properties".equals(name)) {
                fields[PROPERTIES] = JsonText.query(p, value);
                continue;
            }
            Integer at = POSITION.get(name);
            if (at == null) {
                p.skipChildren();
            } else {
                fields[at] = JsonText.scalar(p, value);
            }
        }
        if (t != JsonToken.END_OBJECT) throw new IOException("unterminated object");
    }
}
