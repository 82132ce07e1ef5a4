-- Not applied yet: the only file toolkit runs.
COPY regions (code, name, source) FROM stdin;
apac	Asia Pacific	${flyway:filename}
\.
ALTER TABLE regions ADD COLUMN sort_order int;
