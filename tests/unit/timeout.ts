// Each stack run under mocks serializes the FlinkSqlJob provider (Pulumi's closure serializer) and
// hashes the web-config passwords: seconds on a busy 2-core machine, more than jest's default 5 s.
jest.setTimeout(120_000);
