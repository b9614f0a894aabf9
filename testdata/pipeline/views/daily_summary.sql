-- description: Per day: events, revenue (the amounts of purchases), users and revenue
--    per user. Dashboards ask for the last 30 days by the time column.
-- time: event_date
SELECT
    event_date,
    count(*) AS events,
    CAST(coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) AS DECIMAL(18, 2)) AS revenue,
    count(DISTINCT user_id) AS users,
    CAST(coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) / count(DISTINCT user_id) AS DECIMAL(18, 2)) AS revenue_per_user
FROM silver.events
GROUP BY event_date
