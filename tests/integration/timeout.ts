// Integration tests drive real services: a job reaching a checkpoint takes seconds, not milliseconds.
jest.setTimeout(600_000);
