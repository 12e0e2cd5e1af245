"""How festival-pipeline runs Dagster: the instance (DAGSTER_HOME and its dagster.yaml), the services
(code server, webserver, daemon) as processes, process groups, and dead runs."""
