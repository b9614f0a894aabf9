-- description: Per day and event type: unique users, events, total and average
--    amount, first and last event time.
-- partition: event_date
--
-- Audits return the rows that break a rule; a day with any is not committed.
-- audit unique_grain: SELECT event_date, event_type, count(*) AS rows FROM this
--    GROUP BY ALL HAVING count(*) > 1
-- audit non_negative: SELECT * FROM this
--    WHERE unique_users < 0 OR events < 0 OR total_amount < 0 OR avg_amount < 0
-- audit reconciles_with_silver: SELECT gold_events, silver_events
--    FROM (SELECT coalesce(sum(events), 0) AS gold_events FROM this),
--         (SELECT count(*) AS silver_events FROM silver.events)
--    WHERE gold_events <> silver_events
SELECT
    event_date,
    event_type,
    count(DISTINCT user_id) AS unique_users,
    count(*) AS events,
    -- Money stays DECIMAL: a sum of decimals is exact, so a rerun is identical.
    CAST(coalesce(sum(amount), 0) AS DECIMAL(18, 2)) AS total_amount,
    CAST(sum(amount) / count(amount) AS DECIMAL(18, 2)) AS avg_amount,
    min("timestamp") AS first_event_at,
    max("timestamp") AS last_event_at
FROM silver.events
GROUP BY event_date, event_type
