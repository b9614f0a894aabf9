-- description: The last hour of events, up to the newest event: events, active users
--    and revenue (the amounts of purchases), and the newest event's time.
--
-- "The last hour" ends at the newest event, not at the clock: the view changes only
-- when its input does, and how far behind the clock it is, is its freshness.
WITH recent AS (
    SELECT * FROM silver.events
    WHERE "timestamp" > (SELECT max("timestamp") FROM silver.events) - INTERVAL 1 HOUR
)
SELECT
    count(*) AS events,
    count(DISTINCT user_id) AS active_users,
    CAST(coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) AS DECIMAL(18, 2)) AS revenue,
    max("timestamp") AS newest_event_at
FROM recent
