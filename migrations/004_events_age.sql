-- Events are pruned by age (events_max_age_days): find the old ones without a table scan.
CREATE INDEX events_at ON events (at);
