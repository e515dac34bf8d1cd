package rtdw.flink;

import org.apache.flink.table.functions.ScalarFunction;

/**
 * A scalar function that parses a payload into a ROW which several expressions then read. Declared
 * non-deterministic for the planner's sake only (the result depends on the payload alone): Flink then
 * keeps the call in a projection of its own instead of copying it into every expression that reads a
 * field of the row (FlinkProjectMergeRule / FlinkCalcMergeRule refuse to duplicate such a call).
 */
abstract class ParseOnceFunction extends ScalarFunction {
    @Override
    public final boolean isDeterministic() {
        return false;
    }
}
