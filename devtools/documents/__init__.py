"""The generators of the committed documents, each with a `--check` that CI runs: the events' JSON Schemas
(`backbone schemas`), the AsyncAPI document of the topics (`backbone asyncapi`), and the OpenAPI files and
event catalog (`backbone docs`)."""
