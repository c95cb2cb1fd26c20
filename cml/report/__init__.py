"""``cml report``: metrics/params readers, baselines, diffs, tables, gates, plots and size budget."""
