-- Regions, loaded the way pg_dump writes data.
CREATE TABLE ${flyway:defaultSchema}.regions (code text PRIMARY KEY, name text NOT NULL, source text);

COPY regions (code, name, source) FROM stdin;
eu	Europe; West	${region_source}
us	it's America	\N
\.

GRANT SELECT ON regions TO ${app_role};
