-- description: Per hour and event type: events, revenue (the amounts of purchases)
--    and users. Dashboards ask for the last 24 hours by the time column.
-- time: hour
SELECT
    date_trunc('hour', "timestamp") AS hour,
    event_type,
    count(*) AS events,
    CAST(coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) AS DECIMAL(18, 2)) AS revenue,
    count(DISTINCT user_id) AS users
FROM silver.events
GROUP BY ALL
