"""Pipeline definitions kept as JSON in the repo: strict loading (`load`), checks per kind (`kinds`, `asl`,
`datapipeline`, `schema`), the catalog of a project's files, values and their binding, rendering, and code
fingerprints."""
