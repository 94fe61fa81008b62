"""Scale-out: a run split into independent shards (each its own plaza with its own cards), the
shards run in this process, in local worker processes or as Dask tasks, and their summaries and
audits merged. Uses model, site, results and harness."""
