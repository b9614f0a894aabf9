-- description: Per day, user and plan: events, spend (the amounts of purchases) and
--    the sorted list of the event types the user had. The plan is the one each event
--    carried (Silver's enrichment), so a user who changed plan that day has a row per
--    plan, and spend per plan adds up.
-- partition: event_date
-- audit unique_grain: SELECT event_date, user_id, plan, count(*) AS rows FROM this
--    GROUP BY ALL HAVING count(*) > 1
-- audit non_negative: SELECT * FROM this WHERE events < 0 OR spend < 0
-- audit reconciles_with_silver: SELECT gold_events, silver_events
--    FROM (SELECT coalesce(sum(events), 0) AS gold_events FROM this),
--         (SELECT count(*) AS silver_events FROM silver.events)
--    WHERE gold_events <> silver_events
SELECT
    event_date,
    user_id,
    plan,
    count(*) AS events,
    CAST(coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) AS DECIMAL(18, 2)) AS spend,
    -- Sorted, so that a rerun writes the same list.
    list_sort(list_distinct(list(event_type))) AS event_types
FROM silver.events
GROUP BY event_date, user_id, plan
