package rtdw.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectReader;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectWriter;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a tracking event (one Kafka record as Vector wrote it) once and emits one row: whether the
 * payload {@code IS JSON}, each top-level field as {@code JSON_VALUE(payload, '$.<field>')} returns it,
 * and {@code properties} as {@code JSON_QUERY(payload, '$.properties')} returns it.
 *
 * <p>Flink 1.20 parses the payload again in every JSON_VALUE call, about twenty times per event in
 * the tracking ODS job. The answers here are Flink's, not an approximation: the payload is read the
 * way Flink's JSON functions read it (a default Jackson ObjectMapper, the first JSON value of the
 * text, trailing text ignored, the last of duplicate keys wins), scalars are rendered as those
 * functions render them (Integer/Long/BigInteger, Double, Boolean, String) and properties is written
 * back as JSON_QUERY writes it (keys in input order, numbers as Jackson reads them). Casts and reject reasons stay in the SQL.
 * tests/integration/tracking-parse.test.ts compares both on the gateway over awkward payloads.
 */
@FunctionHint(
        output =
                @DataTypeHint(
                        "ROW<is_json BOOLEAN, event_id STRING, type STRING, event STRING, distinct_id STRING,"
                                + " login_id STRING, anonymous_id STRING, `time` STRING, flush_time STRING,"
                                + " recv_time STRING, track_id STRING, project STRING, lib STRING,"
                                + " lib_version STRING, ip STRING, country STRING, province STRING, city STRING,"
                                + " user_agent STRING, is_core STRING, properties STRING>"))
public final class ParseTrackingEvent extends TableFunction<Row> {

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

    private static final JsonFactory FACTORY = new JsonFactory();
    /** What JsonPath's default Jackson provider parses with (nested values of properties). */
    private static final ObjectReader VALUE_READER = new ObjectMapper(FACTORY).readerFor(Object.class);
    /** How JSON_QUERY serialises a result in Flink 1.20 (JsonPath's provider: keys in input order). */
    private static final ObjectWriter QUERY_WRITER = new ObjectMapper(FACTORY).writer();

    public void eval(String payload) {
        collect(parse(payload));
    }

    /** The row for one payload; never null, so every record reaches the SQL's ODS or reject branch. */
    static Row parse(String payload) {
        Row row = Row.withPositions(WIDTH);
        if (payload == null) {
            row.setField(0, false);
            return row;
        }
        Object[] fields = new Object[WIDTH];
        try (JsonParser p = FACTORY.createParser(payload)) {
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
                fields[PROPERTIES] = query(p, value);
                continue;
            }
            Integer at = POSITION.get(name);
            if (at == null) {
                p.skipChildren();
            } else {
                fields[at] = scalar(p, value);
            }
        }
        if (t != JsonToken.END_OBJECT) throw new IOException("unterminated object");
    }

    /** JSON_VALUE's text of a value: scalars as strings, null / objects / arrays as SQL NULL. */
    private static String scalar(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberValue().toString();
            case VALUE_NUMBER_FLOAT:
                return Double.toString(p.getDoubleValue());
            case VALUE_TRUE:
                return "true";
            case VALUE_FALSE:
                return "false";
            case START_OBJECT:
            case START_ARRAY:
                p.skipChildren();
                return null;
            default:
                return null;
        }
    }

    /** JSON_QUERY's text of a value: objects and arrays serialised, scalars and null as SQL NULL. */
    private static String query(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_OBJECT && t != JsonToken.START_ARRAY) {
            if (t == JsonToken.VALUE_STRING) p.getText(); // a broken string is a parse error, as for Jackson
            return null;
        }
        Object value = VALUE_READER.readValue(p);
        return QUERY_WRITER.writeValueAsString(value);
    }
}
